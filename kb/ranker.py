"""Learned ordering of the first candidates: LambdaMART over what the retrievers saw.

The fused score adds BM25 and the model's cosine with fixed weights, and re-ranking by the
pretrained encoder mixed its cosine in 50/50. Which signal deserves trust changes from one
candidate to the next: a passage that BM25 ranks first and the encoder last, an article
whose law fills the list but which covers none of the question's characters, a definition
that outranks the article that answers. A gradient-boosted ranker (LightGBM's LambdaMART,
objective NDCG) reads ``FEATURES`` for each of the first ``rerank`` candidates and orders
them. Two rankers ship, fitted on the training splits of the tracked question sets over the
full corpus (``evaluation/fit_ranker.py`` makes them again): one for a knowledge base whose
model knows the passages alone, one (cross-fitted) for a model trained on question pairs.
Both read only what any knowledge base has: scores relative to the question's best, ranks,
coverage of the question's words and characters, the pretrained encoder's cosine of the
question and of the question mapped towards answering passages (``kb.query_adapter``), how
the candidates group by document, whether a candidate belongs to the place served or another
region, and how many stored question pairs point to it (none in a fresh knowledge base).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from kb.lightgbm_native import NativeModel
from kb.normalize import normalize_for_matching

#: What the ranker reads of each candidate, in the model's column order.
FEATURES = (
    "fused",                # fused score / the question's best fused score
    "fused_rank",           # ln(1 + position in the fused list)
    "bm25",                 # BM25 x prior / the question's best
    "bm25_rank",            # ln(1 + position in BM25's list); ABSENT_RANK where BM25 did not list it
    "dense",                # the knowledge-base model's cosine (0 without a model)
    "dense_rank",           # ln(1 + position in the model's list)
    "head_cosine",          # the pretrained encoder's cosine of question and "title：passage head"
    "head_cosine_gap",      # head_cosine - the best head_cosine among the candidates
    "document_candidates",  # candidates of the same document
    "document_fused",       # the document's best fused score / the question's best
    "document_cosine_gap",  # the document's best head_cosine - the best among the candidates
    "passage_chars",        # ln(1 + characters of the passage)
    "title_terms",          # share of the question's terms found in the document's title
    "passage_terms",        # share of the question's terms found in the passage
    "ordinal",              # ln(1 + position of the passage in its document)
    "question_terms",       # distinct terms of the question
    "question_chars",       # characters of the (cleaned) question
    "passage_bigrams",      # share of the question's character bigrams found in the passage
    "title_bigrams",        # share of the question's character bigrams found in the title
    "head_cosine_rank",     # ln(1 + position by head_cosine)
    "document_cosine_lead",  # head_cosine - the best head_cosine of the same document
    "document_fused_lead",  # fused - the document's best fused (both / the question's best)
    "dense_gap",            # dense - the best dense among the candidates
    "expansion_terms",      # share of the expansion's terms found in the passage; -1 without any
    "documents_top10",      # distinct documents among the first ten candidates
    "bm25_weight",          # BM25's weight in the fusion: 0.8 for a model that knows the passages alone,
                            # towards 0.4 as a trained model finds the question familiar (kb.familiarity)
    "place",                # the document's place prior in the fusion: the place served or one named in
                            # the question (1.5), national (1), another region (0.5)
    "passage_answers",      # ln(1 + stored question pairs that point to the passage): citizens ask about
                            # the same articles again (the document's count is in the fused score)
    "adapted_cosine",       # the encoder's cosine with the question's vector mapped towards the
                            # passages that answer such questions (kb.query_adapter)
    "adapted_cosine_gap",   # adapted_cosine - the best adapted_cosine among the candidates
    "adapted_cosine_rank",  # ln(1 + position by adapted_cosine)
)
log = logging.getLogger(__name__)

#: Rank given to a candidate that one retriever did not list (it listed at most 100).
ABSENT_RANK = 150
#: The ranker for a knowledge base whose model knows the passages alone (what `policykb ingest`
#: builds), and the one for a model trained on question pairs: that model finds the passages
#: of questions like the confirmed ones, and the second ranker learned how far to trust it.
MODEL_FILE = "ranker.txt"
TRAINED_MODEL_FILE = "ranker-trained.txt"


@dataclass(frozen=True)
class Candidates:
    """The first candidates of one question, best fused first, as the ranker reads them."""

    question: str
    terms: Sequence[str]
    expansion: Sequence[str]
    segment_ids: Sequence[str]
    fused: np.ndarray
    bm25: np.ndarray
    bm25_rank: np.ndarray
    dense: np.ndarray
    dense_rank: np.ndarray
    head_cosine: np.ndarray
    doc_ids: Sequence[str]
    texts: Sequence[str]
    titles: Sequence[str]
    ordinals: Sequence[int]
    bm25_weight: float = 0.8
    places: np.ndarray | None = None  # each candidate's place prior (1 where unknown)
    passage_answers: np.ndarray | None = None  # stored question pairs pointing to each (0 where unknown)
    adapted_cosine: np.ndarray | None = None  # head cosines of the adapted question (head_cosine where none)


def gather(question: str, terms: Sequence[str], expansion: Sequence[str], head: Sequence[tuple[str, float]], *,
           bm25_weight: float, bm25: Mapping[str, float], bm25_order: Sequence[str], dense: Mapping[str, float],
           dense_order: Sequence[str], cosines: tuple[np.ndarray, np.ndarray],
           passages: Mapping[str, tuple[str, str, int, str]], places: Mapping[str, float],
           answers: Mapping[str, int]) -> Candidates:
    """``Candidates`` from what either backend knows of its first candidates ``head`` (segment
    id, fused score; best first): each retriever's score (BM25 relative to its best, the model's
    cosine) and its list best first, the encoder's plain and adapted cosines
    (``Reranker.cosine_pair``), ``(doc_id, text, ordinal, title)``
    of each passage, each passage's place prior in the fusion and the stored question pairs
    that point to it."""
    ids = [segment_id for segment_id, _ in head]
    plain, adapted = cosines

    def ranks(order: Sequence[str]) -> np.ndarray:
        position = {segment_id: r for r, segment_id in enumerate(order)}
        return np.asarray([position.get(segment_id, ABSENT_RANK) for segment_id in ids], dtype=np.float64)

    return Candidates(
        question=question, terms=terms, expansion=expansion, segment_ids=ids,
        fused=np.asarray([score for _, score in head], dtype=np.float64),
        bm25=np.asarray([bm25.get(i, 0.0) for i in ids], dtype=np.float64), bm25_rank=ranks(bm25_order),
        dense=np.asarray([max(dense.get(i, 0.0), 0.0) for i in ids], dtype=np.float64), dense_rank=ranks(dense_order),
        head_cosine=plain, adapted_cosine=adapted, doc_ids=[passages[i][0] for i in ids], texts=[passages[i][1] for i in ids],
        ordinals=[passages[i][2] for i in ids], titles=[passages[i][3] for i in ids], bm25_weight=bm25_weight,
        places=np.asarray([places.get(i, 1.0) for i in ids], dtype=np.float64),
        passage_answers=np.asarray([answers.get(i, 0) for i in ids], dtype=np.float64))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if text[i].isalnum() and text[i + 1].isalnum()}


def _share(needles: set[str], haystack: str) -> float:
    if not needles:
        return 0.0
    found = 0
    for needle in needles:
        if needle in haystack:
            found += 1
    return found / len(needles)


def _positions(scores: np.ndarray) -> np.ndarray:
    """Each score's position, best first (ties in list order)."""
    position = np.empty(len(scores), dtype=np.int64)
    position[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    return position


def candidate_features(c: Candidates) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (the question's character bigrams are those of
    the question folded for matching, as passages are searched)."""
    n = len(c.segment_ids)
    best = float(c.fused.max()) or 1.0
    fused = c.fused / best
    top_cosine = float(c.head_cosine.max())
    doc_count: dict[str, int] = {}
    doc_fused: dict[str, float] = {}
    doc_cosine: dict[str, float] = {}
    for doc, score, cosine in zip(c.doc_ids, fused, c.head_cosine):
        doc_count[doc] = doc_count.get(doc, 0) + 1
        doc_fused[doc] = max(doc_fused.get(doc, 0.0), float(score))
        doc_cosine[doc] = max(doc_cosine.get(doc, -1.0), float(cosine))
    cosine_rank = _positions(c.head_cosine)
    adapted = c.adapted_cosine if c.adapted_cosine is not None else c.head_cosine
    adapted_rank = _positions(adapted)
    top_adapted = float(adapted.max()) if n else 0.0
    terms = set(c.terms)
    expansion = set(c.expansion)
    bigrams = _bigrams(normalize_for_matching(c.question))
    top_dense = float(c.dense.max()) if n else 0.0
    documents_top10 = len(set(c.doc_ids[:10]))
    places = c.places if c.places is not None else np.ones(n)
    passage_answers = np.log1p(c.passage_answers) if c.passage_answers is not None else np.zeros(n)
    rows = np.empty((n, len(FEATURES)), dtype=np.float32)
    for r in range(n):
        doc, text, title = c.doc_ids[r], c.texts[r], c.titles[r]
        rows[r] = (
            fused[r], math.log1p(r), c.bm25[r], math.log1p(c.bm25_rank[r]), c.dense[r],
            math.log1p(c.dense_rank[r]), c.head_cosine[r], c.head_cosine[r] - top_cosine, doc_count[doc],
            doc_fused[doc], doc_cosine[doc] - top_cosine, math.log1p(len(text)), _share(terms, title),
            _share(terms, text), math.log1p(c.ordinals[r] or 0), len(terms), len(c.question),
            _share(bigrams, text), _share(bigrams, title), math.log1p(cosine_rank[r]),
            c.head_cosine[r] - doc_cosine[doc], fused[r] - doc_fused[doc], c.dense[r] - top_dense,
            _share(expansion, text) if expansion else -1.0, documents_top10, c.bm25_weight,
            places[r], passage_answers[r], adapted[r], adapted[r] - top_adapted, math.log1p(adapted_rank[r]),
        )
    return rows


class LearnedRanker:
    """A LightGBM ranking model over ``FEATURES``; higher scores go first."""

    def __init__(self, model_file: Path | str) -> None:
        self.model = NativeModel(model_file)  # ModelError (a ValueError) for a file it cannot read
        self._lock = threading.Lock()
        if self.model.feature_names != FEATURES:
            raise ValueError(f"{model_file} was fitted on other features: {self.model.feature_names[:3]}...")

    def scores(self, features: np.ndarray) -> np.ndarray:
        # one OpenMP thread: the service answers many questions at once, each on its own thread;
        # and one prediction at a time: LightGBM sets up a shared booster's predictor without a
        # lock of its own (LightGBM issue 6142), and a prediction takes about a millisecond
        with self._lock:
            return self.model.predict(features)

    def order(self, candidates: Candidates) -> list[tuple[str, float]]:
        """The candidates re-ordered, each carrying the fused score of its new position (the
        ``i``-th candidate gets the ``i``-th best fused score), so scores keep their scale and
        stay above those of the passages after the candidates."""
        scores = self.scores(candidate_features(candidates))
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], candidates.segment_ids[i]))
        fused = sorted((float(x) for x in candidates.fused), reverse=True)
        return [(candidates.segment_ids[i], score) for i, score in zip(order, fused)]


@functools.cache
def bundled_ranker(*, trained: bool = False) -> LearnedRanker | None:
    """The ranker shipped with this version for a knowledge base whose model was ``trained`` on
    question pairs, or for one whose model knows the passages alone; None where it cannot be
    read (its file missing, or LightGBM not loadable: its library needs the system's OpenMP
    runtime, libgomp)."""
    name = TRAINED_MODEL_FILE if trained else MODEL_FILE
    path = resources.files("kb.resources") / name
    if not path.is_file():
        log.warning("the learned ranker's file %s is missing: re-ranking by the cosine mix", name)
        return None
    try:
        return LearnedRanker(Path(str(path)))
    except (ImportError, OSError, ValueError) as error:
        log.warning("the learned ranker cannot be loaded (%s): re-ranking by the cosine mix", error)
        return None
