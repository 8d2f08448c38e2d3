"""The knowledge base on Milvus (experimental): publish a generation, search it.

``pymilvus`` is an optional extra (``pip install 'policykb[milvus]'``) and is imported only
when a Milvus client is made, so importing ``kb`` never needs it.
"""

from kb.milvus.publish import (
    BACKEND_KEY,
    Publication,
    PublishError,
    backend_of,
    connect,
    document_signatures,
    publish,
    record_backend,
    update,
)
from kb.milvus.schema import alias_name, term_for_analyzer, terms_text
from kb.milvus.searcher import MilvusSearcher, bm25_score, filter_expression, open_searcher

__all__ = [
    "BACKEND_KEY", "MilvusSearcher", "Publication", "PublishError", "alias_name", "backend_of", "bm25_score",
    "connect", "document_signatures", "filter_expression", "open_searcher", "publish", "record_backend",
    "term_for_analyzer", "terms_text", "update",
]
