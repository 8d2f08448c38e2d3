"""An index generation in two layers: a full build (the base) and the documents changed since.

A full build over the whole law corpus takes half a minute (BM25 over 155k passages, their
vectors, the inverted file, hashes); re-ingesting one changed law paid all of it. A
generation can instead keep the last full build's files as they are (hard links: no copy,
no rehash) and add a *delta*: BM25 weights and vectors of the changed documents' passages
only (weighted with the base's statistics, ``BM25Index.build(reference=...)``), a mask of
the base passages they replace or remove, and every document's current validity (a new
version supersedes an old document without changing it). This module is what searching
sees of such a generation: one BM25 index and one dense index whose passages are the base's
followed by the delta's. ``kb.increment`` builds them; ``kb.index`` loads them.

The delta is always "the store now, less the base", never a chain of deltas, and a full
build replaces it once it grows past ``kb.increment.MAX_DELTA_SHARE`` of the base (Lucene
merges small segments for the same reasons: statistics drift and per-layer cost).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from kb.bm25 import BM25Index
from kb.dense_index import DenseIndex

BASE_DIR = "base"
DELTA_DIR = "delta"
#: One flag per base passage: False where a changed or deleted document's passage was.
LIVE_FILE = "live.npy"
#: {doc_id: [status, effective, expires, superseded_from]} of every document at build time.
VALIDITY_FILE = "validity.json"


class LayeredBM25:
    """The base's and the delta's BM25 indexes read as one (delta passages after the base's)."""

    def __init__(self, base: BM25Index, delta: BM25Index) -> None:
        self.base, self.delta = base, delta
        self.parameters = base.parameters
        self.vocabulary = list(base.vocabulary)
        self.term_ids = dict(base.term_ids)
        for term in delta.vocabulary:
            if term not in self.term_ids:
                self.term_ids[term] = len(self.vocabulary)
                self.vocabulary.append(term)
        frequency = np.zeros(len(self.vocabulary), dtype=np.int64)
        frequency[:len(base.vocabulary)] = base.document_frequency
        np.add.at(frequency, [self.term_ids[t] for t in delta.vocabulary], delta.document_frequency)
        #: Passages holding each term, in both layers (replaced base passages still count
        #: until the next full build).
        self.document_frequency = frequency

    @property
    def document_count(self) -> int:
        return self.base.document_count + self.delta.document_count

    def scores(self, query_terms: Sequence[str], extra: Mapping[str, float] | None = None,
               weights: Mapping[str, float] | None = None) -> np.ndarray:
        return np.concatenate([self.base.scores(query_terms, extra, weights),
                               self.delta.scores(query_terms, extra, weights)])


class LayeredDense:
    """The base's dense index (perhaps an inverted file) and the delta's vectors, searched exactly."""

    def __init__(self, base: DenseIndex, delta: DenseIndex) -> None:
        self.base, self.delta = base, delta
        self.offset = base.rows

    @property
    def rows(self) -> int:
        return self.base.rows + self.delta.rows

    @property
    def dim(self) -> int:
        return self.base.dim

    @property
    def approximate(self) -> bool:
        return self.base.approximate

    def candidates(self, query: np.ndarray, allowed: np.ndarray | None = None,
                   allowed_count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        base_allowed = None if allowed is None else allowed[:self.offset]
        positions, scores = self.base.candidates(query, base_allowed, allowed_count)
        delta_positions, delta_scores = self.delta.candidates(query)
        return (np.concatenate([positions, delta_positions + self.offset]),
                np.concatenate([scores, delta_scores]))

    def scores_of(self, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        scores = np.empty(len(positions), dtype=np.float32)
        in_base = positions < self.offset
        scores[in_base] = self.base.scores_of(positions[in_base], query)
        scores[~in_base] = self.delta.scores_of(positions[~in_base] - self.offset, query)
        return scores


def apply_validity(segments: dict[str, list], validity: Mapping[str, Sequence]) -> None:
    """Give every passage its document's current validity (in place)."""
    statuses, effective = segments["statuses"], segments["effective"]
    expires, superseded_from = segments["expires"], segments["superseded_from"]
    for i, doc_id in enumerate(segments["doc_ids"]):
        current = validity.get(doc_id)
        if current is not None:
            statuses[i], effective[i], expires[i], superseded_from[i] = current
