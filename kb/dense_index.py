"""Dense retrieval over the passages' unit vectors: exact when small, an inverted file when large.

Scoring every passage (``vectors @ query``) reads the whole matrix for each question: 159 MB
and about half the search time over the full law corpus. Above ``IVF_MIN_ROWS`` passages
the build clusters the vectors (spherical k-means, about ``ROWS_PER_LIST`` passages a list)
and stores them list by list, so a question scores the centroids, then only the
``probe_share`` of lists nearest to it, each a contiguous slice: a few percent of the
matrix. What an approximation loses is measured, not assumed: ``policykb bench`` reports
recall@10 against the exact search, and the evaluation sets were run with both (README).

Rows of ``embeddings.npy`` are in list order when ``dense_ivf.npz`` is present (its
``order`` names each row's passage position); without it they are in passage order and
every search is exact, which is how generations built before the inverted file load.
Files are memory-mapped: worker processes share one copy in the page cache.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

VECTORS_FILE = "embeddings.npy"
IVF_FILE = "dense_ivf.npz"
#: Below this many passages exact search costs a millisecond or less: no inverted file.
IVF_MIN_ROWS = 20_000
#: Passages per list aimed at (lists = rows / this).
ROWS_PER_LIST = 150
#: Share of the lists scored per question (at least ``MIN_PROBES`` lists).
PROBE_SHARE = 0.06
MIN_PROBES = 8
#: When the filter leaves at most this many passages, they are scored exactly instead.
EXACT_FILTERED_ROWS = 30_000
KMEANS_ITERATIONS = 8
#: k-means is fitted on a sample of this many rows per list, then every row is assigned.
SAMPLE_PER_LIST = 40


def _assign(vectors: np.ndarray, centroids: np.ndarray, batch: int = 16_384) -> np.ndarray:
    """The nearest centroid (largest dot product) of every row."""
    labels = np.empty(len(vectors), dtype=np.int32)
    for start in range(0, len(vectors), batch):
        labels[start:start + batch] = np.argmax(vectors[start:start + batch] @ centroids.T, axis=1)
    return labels


def spherical_kmeans(vectors: np.ndarray, lists: int, *, seed: int = 0,
                     iterations: int = KMEANS_ITERATIONS) -> np.ndarray:
    """Unit-length centroids of ``lists`` clusters of the unit rows of ``vectors``.

    Fitted on a sample (a few dozen rows per list is what k-means needs), seeded with random
    distinct rows; an emptied cluster is re-seeded with a random row. Deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    sample_size = min(len(vectors), lists * SAMPLE_PER_LIST)
    sample = np.ascontiguousarray(vectors[np.sort(rng.choice(len(vectors), sample_size, replace=False))],
                                  dtype=np.float32)
    centroids = sample[rng.choice(sample_size, lists, replace=False)].copy()
    for _ in range(iterations):
        labels = _assign(sample, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, sample)
        counts = np.bincount(labels, minlength=lists)
        empty = np.flatnonzero(counts == 0)
        sums[empty] = sample[rng.choice(sample_size, len(empty), replace=False)] if len(empty) else sums[empty]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
    return centroids


class DenseIndex:
    """Unit vectors of the passages, searched exactly or through an inverted file."""

    def __init__(self, vectors: np.ndarray, *, centroids: np.ndarray | None = None,
                 offsets: np.ndarray | None = None, order: np.ndarray | None = None,
                 probe_share: float = PROBE_SHARE) -> None:
        self.vectors = vectors  # rows in list order when there is an inverted file
        self.centroids = centroids
        self.offsets = offsets
        self.order = order
        # slot[i]: the row of passage i
        self.slot = None if order is None else np.argsort(order).astype(np.int64)
        self.probe_share = probe_share

    @property
    def rows(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def approximate(self) -> bool:
        return self.centroids is not None

    @property
    def probes(self) -> int:
        if self.centroids is None:
            return 0
        lists = len(self.centroids)
        return min(lists, max(MIN_PROBES, math.ceil(lists * self.probe_share)))

    @classmethod
    def build(cls, vectors: np.ndarray, *, seed: int = 0) -> DenseIndex:
        """Cluster large matrices into an inverted file; keep small ones for exact search."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) < IVF_MIN_ROWS:
            return cls(vectors)
        lists = max(1, len(vectors) // ROWS_PER_LIST)
        centroids = spherical_kmeans(vectors, lists, seed=seed)
        labels = _assign(vectors, centroids)
        order = np.argsort(labels, kind="stable").astype(np.int64)
        offsets = np.zeros(lists + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.bincount(labels, minlength=lists))
        return cls(vectors[order], centroids=centroids, offsets=offsets, order=order)

    def save(self, directory: Path) -> list[str]:
        np.save(directory / VECTORS_FILE, self.vectors, allow_pickle=False)
        if self.centroids is None:
            return [VECTORS_FILE]
        np.savez(directory / IVF_FILE, centroids=self.centroids, offsets=self.offsets, order=self.order)
        return [VECTORS_FILE, IVF_FILE]

    @classmethod
    def load(cls, directory: Path, *, probe_share: float = PROBE_SHARE) -> DenseIndex:
        # a plain array over the mapping: np.memmap's own slicing costs microseconds a call
        vectors = np.load(directory / VECTORS_FILE, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        if not (directory / IVF_FILE).exists():
            return cls(vectors, probe_share=probe_share)
        with np.load(directory / IVF_FILE, allow_pickle=False) as ivf:
            return cls(vectors, centroids=ivf["centroids"], offsets=ivf["offsets"], order=ivf["order"],
                       probe_share=probe_share)

    def vectors_of(self, positions: np.ndarray) -> np.ndarray:
        """The vectors of passages at ``positions`` (passage order)."""
        rows = positions if self.slot is None else self.slot[positions]
        return self.vectors[rows]

    def scores_of(self, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with the passages at ``positions``."""
        if len(positions) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.vectors_of(np.asarray(positions, dtype=np.int64)) @ query

    def candidates(self, query: np.ndarray, allowed: np.ndarray | None = None,
                   allowed_count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage positions, cosines) of the passages this query is compared with.

        Exact: every passage (or, under a narrow filter, every allowed one). Otherwise the
        passages of the ``probes`` lists whose centroids are nearest to the query.
        """
        if self.centroids is None:
            if allowed is not None and allowed_count is not None and allowed_count <= EXACT_FILTERED_ROWS:
                positions = np.flatnonzero(allowed)
                return positions, self.vectors[positions] @ query
            return np.arange(self.rows), np.asarray(self.vectors @ query)
        if allowed is not None and allowed_count is not None and allowed_count <= EXACT_FILTERED_ROWS:
            positions = np.flatnonzero(allowed)
            return positions, self.scores_of(positions, query)
        centroid_scores = self.centroids @ query
        probes = self.probes
        nearest = np.argpartition(-centroid_scores, probes - 1)[:probes] if probes < len(centroid_scores) \
            else np.arange(len(centroid_scores))
        nearest.sort()  # read the lists in file order
        offsets = self.offsets
        parts = [(int(offsets[j]), int(offsets[j + 1])) for j in nearest]
        rows = np.concatenate([np.arange(lo, hi) for lo, hi in parts]) if parts else np.zeros(0, np.int64)
        scores = np.concatenate([self.vectors[lo:hi] @ query for lo, hi in parts]) if parts \
            else np.zeros(0, np.float32)
        return self.order[rows], scores
