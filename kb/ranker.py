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

import ahocorasick
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


class _Needles:
    """Which of the question's words, character bigrams and expansion terms each text holds.

    A question's candidates are a few hundred passages and 50-odd needles; asking ``needle in
    text`` for each pair cost 1.9 ms a question. An Aho-Corasick automaton (``pyahocorasick``,
    C) finds every needle in one pass over each text: 0.7 ms, the same answers."""

    def __init__(self, *groups: set[str]) -> None:
        self.needles = tuple(dict.fromkeys(needle for group in groups for needle in sorted(group) if needle))
        self.column = {needle: k for k, needle in enumerate(self.needles)}
        self._automaton = None
        if self.needles:
            automaton = ahocorasick.Automaton()
            for k, needle in enumerate(self.needles):
                automaton.add_word(needle, k)
            automaton.make_automaton()
            self._automaton = automaton

    def found(self, texts: Sequence[str]) -> np.ndarray:
        """[text, needle] True where the needle occurs in the text (a recurring text, the
        title of one document's candidates, is searched once)."""
        found = np.zeros((len(texts), len(self.needles)), dtype=bool)
        if self._automaton is None:
            return found
        row_of: dict[str, int] = {}
        for r, text in enumerate(texts):
            seen = row_of.setdefault(text, r)
            if seen != r:
                found[r] = found[seen]
                continue
            for _end, k in self._automaton.iter(text):
                found[r, k] = True
        return found

    def share(self, found: np.ndarray, group: set[str]) -> np.ndarray:
        """The share of ``group`` in each row of ``found`` (0 for an empty group; the empty
        string, were it a needle, is in every text)."""
        if not group:
            return np.zeros(len(found))
        columns = [self.column[needle] for needle in group if needle]
        return (found[:, columns].sum(axis=1) + (len(group) - len(columns))) / len(group)


def _log1p(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``math.log1p`` of each value: the very doubles the models were fitted on (NumPy's own
    log1p may differ in the last bit, which can put a value on the other side of a split)."""
    return np.fromiter(map(math.log1p, values), dtype=np.float64, count=len(values))


def _positions(scores: np.ndarray) -> np.ndarray:
    """Each score's position, best first (ties in list order)."""
    position = np.empty(len(scores), dtype=np.int64)
    position[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
    return position


def candidate_features(c: Candidates) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (the question's character bigrams are those of
    the question folded for matching, as passages are searched).

    Built a column at a time: a question has up to a few hundred candidates, and filling
    their rows value by value in Python cost more than the trees that read them."""
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
    adapted = c.adapted_cosine if c.adapted_cosine is not None else c.head_cosine
    top_adapted = float(adapted.max()) if n else 0.0
    terms = set(c.terms)
    expansion = set(c.expansion)
    bigrams = _bigrams(normalize_for_matching(c.question))
    needles = _Needles(terms, bigrams, expansion)
    in_text, in_title = needles.found(c.texts), needles.found(c.titles)
    top_dense = float(c.dense.max()) if n else 0.0
    places = c.places if c.places is not None else np.ones(n)
    passage_answers = np.log1p(c.passage_answers) if c.passage_answers is not None else np.zeros(n)
    of_document = np.asarray([doc_count[doc] for doc in c.doc_ids], dtype=np.float64)
    document_fused = np.asarray([doc_fused[doc] for doc in c.doc_ids], dtype=np.float64)
    document_cosine = np.asarray([doc_cosine[doc] for doc in c.doc_ids], dtype=np.float64)
    columns = {
        "fused": fused,
        "fused_rank": _log1p(range(n)),
        "bm25": c.bm25,
        "bm25_rank": _log1p(c.bm25_rank),
        "dense": c.dense,
        "dense_rank": _log1p(c.dense_rank),
        "head_cosine": c.head_cosine,
        "head_cosine_gap": c.head_cosine - top_cosine,
        "document_candidates": of_document,
        "document_fused": document_fused,
        "document_cosine_gap": document_cosine - top_cosine,
        "passage_chars": _log1p([len(text) for text in c.texts]),
        "title_terms": needles.share(in_title, terms),
        "passage_terms": needles.share(in_text, terms),
        "ordinal": _log1p([ordinal or 0 for ordinal in c.ordinals]),
        "question_terms": len(terms),
        "question_chars": len(c.question),
        "passage_bigrams": needles.share(in_text, bigrams),
        "title_bigrams": needles.share(in_title, bigrams),
        "head_cosine_rank": _log1p(_positions(c.head_cosine)),
        # a float32 cosine less a document's best in float32, as the rows were first computed
        "document_cosine_lead": c.head_cosine - document_cosine.astype(c.head_cosine.dtype),
        "document_fused_lead": fused - document_fused,
        "dense_gap": c.dense - top_dense,
        "expansion_terms": needles.share(in_text, expansion) if expansion else -1.0,
        "documents_top10": len(set(c.doc_ids[:10])),
        "bm25_weight": c.bm25_weight,
        "place": places,
        "passage_answers": passage_answers,
        "adapted_cosine": adapted,
        "adapted_cosine_gap": adapted - top_adapted,
        "adapted_cosine_rank": _log1p(_positions(adapted)),
    }
    rows = np.empty((n, len(FEATURES)), dtype=np.float32)
    for k, name in enumerate(FEATURES):
        rows[:, k] = columns[name]
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
