"""policykb's engine: domain types, storage, hybrid index and cited search.

Everything the other packages need is exported here; they import nothing deeper.
Importing ``kb`` does not import torch: embedding models load lazily.
"""

from kb.bm25 import BM25Index, BM25Parameters
from kb.embedding import KB_MODEL, TrainingSettings
from kb.errors import (
    BackendUnavailable,
    DocumentNotFound,
    EmbeddingModelError,
    IndexMismatch,
    IndexNotBuilt,
    InvalidFilter,
    InvalidQuestion,
    KBError,
    KnowledgeBaseNotFound,
    SegmentNotFound,
)
from kb.jurisdiction import NATIONAL, jurisdiction_of
from kb.fusion import reciprocal_rank_fusion, weighted_score_fusion
from kb.index import IndexSettings
from kb.knowledge_base import AddResult, KnowledgeBase, content_hash, open_kb
from kb.query_adapter import QueryAdapter
from kb.ranker import FEATURES as RANKER_FEATURES
from kb.ranker import candidate_features
from kb.search import (
    DEFAULT_TOP_K,
    MAX_FILTER_CHARS,
    MAX_FILTER_VALUES,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    Hit,
    SearchFilters,
    SearchResult,
    SearchSettings,
)
from kb.tokenize import PolicyTokenizer, TokenizerSettings
from kb.threads import answer_on_one_blas_thread
from kb.types import EXPIRED, IN_FORCE, STATUSES, SUPERSEDED, Document, Segment

__all__ = [
    "AddResult", "QueryAdapter", "answer_on_one_blas_thread", "candidate_features", "RANKER_FEATURES", "BackendUnavailable", "BM25Index", "BM25Parameters", "DEFAULT_TOP_K", "Document", "DocumentNotFound",
    "EXPIRED", "EmbeddingModelError", "Hit", "IN_FORCE", "IndexMismatch", "IndexNotBuilt",
    "IndexSettings", "InvalidFilter", "InvalidQuestion", "KBError", "KB_MODEL", "KnowledgeBase",
    "KnowledgeBaseNotFound", "MAX_FILTER_CHARS", "MAX_FILTER_VALUES", "MAX_QUESTION_CHARS", "NATIONAL", "jurisdiction_of", "MAX_TOP_K", "PolicyTokenizer", "STATUSES",
    "SUPERSEDED", "SearchFilters", "SearchResult", "SearchSettings", "Segment", "SegmentNotFound", "TokenizerSettings",
    "TrainingSettings", "content_hash", "open_kb", "reciprocal_rank_fusion", "weighted_score_fusion",
]
