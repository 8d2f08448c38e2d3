"""Dense search: exact on small matrices; on large ones an inverted file that must find what
exact search finds (recall measured here on clustered vectors, as on the real corpus)."""

from __future__ import annotations

import numpy as np
import pytest

from kb.dense_index import IVF_FILE, IVF_MIN_ROWS, VECTORS_FILE, DenseIndex


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def clustered() -> np.ndarray:
    """Passage-like vectors: 400 topics, each a cloud around its own direction."""
    rng = np.random.default_rng(11)
    topics = _unit(rng.normal(size=(400, 64)))
    labels = rng.integers(0, 400, size=IVF_MIN_ROWS + 5_000)
    return _unit(topics[labels] + 0.35 * rng.normal(size=(len(labels), 64)) / 8)


def _exact_top(vectors: np.ndarray, query: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-(vectors @ query))[:k].tolist())


def test_small_matrices_are_searched_exactly(tmp_path) -> None:
    vectors = _unit(np.random.default_rng(1).normal(size=(500, 16)))
    index = DenseIndex.build(vectors)
    assert not index.approximate
    assert index.save(tmp_path) == [VECTORS_FILE]
    loaded = DenseIndex.load(tmp_path)
    positions, scores = loaded.candidates(vectors[7])
    assert len(positions) == 500 and int(positions[np.argmax(scores)]) == 7


def test_inverted_file_recalls_what_exact_search_finds(clustered: np.ndarray, tmp_path) -> None:
    index = DenseIndex.build(clustered, seed=0)
    assert index.approximate and 0 < index.probes < len(index.centroids)
    files = index.save(tmp_path)
    assert set(files) == {VECTORS_FILE, IVF_FILE}
    loaded = DenseIndex.load(tmp_path)
    rng = np.random.default_rng(5)
    recall = []
    for i in rng.choice(len(clustered), 60, replace=False):
        query = _unit(clustered[i][None, :] + 0.05 * rng.normal(size=(1, 64)))[0]
        positions, scores = loaded.candidates(query)
        assert len(positions) < len(clustered) / 4  # only a few lists are read
        found = set(positions[np.argsort(-scores)[:10]].tolist())
        recall.append(len(found & _exact_top(clustered, query, 10)) / 10)
    assert np.mean(recall) >= 0.9


def test_scores_of_any_passage_are_exact_cosines(clustered: np.ndarray, tmp_path) -> None:
    DenseIndex.build(clustered, seed=0).save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    query = clustered[123]
    positions = np.array([0, 123, 9_999, len(clustered) - 1])
    np.testing.assert_allclose(loaded.scores_of(positions, query), clustered[positions] @ query, rtol=1e-5)
    np.testing.assert_allclose(loaded.vectors_of(positions), clustered[positions])


def test_a_narrow_filter_is_searched_exactly_over_what_it_allows(clustered: np.ndarray, tmp_path) -> None:
    """A filter on one document leaves a few passages, perhaps in no probed list: all are scored."""
    DenseIndex.build(clustered, seed=0).save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    allowed = np.zeros(len(clustered), dtype=bool)
    allowed[[5, 17_000, 24_000]] = True
    positions, scores = loaded.candidates(clustered[0], allowed, int(allowed.sum()))
    assert sorted(positions.tolist()) == [5, 17_000, 24_000]
    np.testing.assert_allclose(scores, clustered[positions] @ clustered[0], rtol=1e-5)


def test_building_is_deterministic(clustered: np.ndarray) -> None:
    first, second = DenseIndex.build(clustered, seed=3), DenseIndex.build(clustered, seed=3)
    np.testing.assert_array_equal(first.order, second.order)
    np.testing.assert_array_equal(first.centroids, second.centroids)
