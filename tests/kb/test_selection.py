"""The best few of many scores, found through a sampled threshold, are the best few."""

from __future__ import annotations

import numpy as np
import pytest

from kb.selection import largest


@pytest.mark.parametrize("size, count", [(155_000, 60), (5_000, 60), (100, 60), (60, 60), (50, 60), (1_000, 1)])
def test_largest_finds_the_same_scores_as_a_full_partition(size: int, count: int) -> None:
    rng = np.random.default_rng(size + count)
    for _ in range(20):
        scores = rng.standard_normal(size).astype(np.float32)
        scores[rng.integers(0, size, size // 3)] = 0  # passages the filter leaves out
        picked = largest(scores, min(count, size))
        expected = np.sort(scores)[::-1][:min(count, size)]
        assert np.array_equal(np.sort(scores[picked])[::-1], expected)
        assert len(set(picked.tolist())) == len(picked)


def test_largest_when_the_sample_guesses_too_high() -> None:
    # the sampled rows hold the largest scores: fewer than ``count`` reach the guessed threshold
    scores = np.zeros(10_000, dtype=np.float32)
    scores[::32] = np.arange(len(scores[::32]), dtype=np.float32) + 100
    scores[1::32][:50] = 50
    picked = largest(scores, 400)
    assert np.array_equal(np.sort(scores[picked])[::-1], np.sort(scores)[::-1][:400])


def test_largest_of_nothing_is_nothing() -> None:
    assert largest(np.zeros(0, dtype=np.float32), 5).tolist() == []
    assert largest(np.ones(5, dtype=np.float32), 0).tolist() == []


@pytest.mark.parametrize("count", [1, 100, 5_000])
def test_bm25_candidates_are_the_best_weighted_matches_and_no_passage_the_filter_left_out(count: int) -> None:
    from kb.search import _top

    rng = np.random.default_rng(count)
    scores = rng.random(20_000).astype(np.float32)
    scores[rng.random(20_000) < 0.8] = 0  # most passages share no word with the question
    weight = rng.choice(np.array([0, 0.5, 1, 1.5], dtype=np.float32), 20_000)
    top = _top(scores, weight, count)
    weighted = scores * weight
    expected = np.sort(weighted[weighted > 0])[::-1][:count]
    assert sorted((score for _, score in top), reverse=True) == pytest.approx(expected.tolist())
    assert all(weighted[i] == score and weight[i] > 0 for i, score in top)
    assert len({i for i, _ in top}) == len(top)


def test_dense_candidates_are_the_best_weighted_of_the_passages_scored() -> None:
    from kb.search import _top

    rng = np.random.default_rng(7)
    positions = np.sort(rng.choice(20_000, 3_000, replace=False))  # the probed lists' passages
    cosines = rng.uniform(-0.2, 1, 3_000).astype(np.float32)
    weight = rng.choice(np.array([0, 0.5, 1, 1.5], dtype=np.float32), 20_000)
    top = _top(cosines, weight, 100, positions)
    weighted = dict(zip(positions.tolist(), (cosines * weight[positions]).tolist()))
    expected = sorted((w for w in weighted.values() if w > 0), reverse=True)[:100]
    assert sorted((score for _, score in top), reverse=True) == pytest.approx(expected)
    assert all(weighted[i] == pytest.approx(score) and weight[i] > 0 for i, score in top)
    assert _top(np.zeros(0, dtype=np.float32), weight, 100, np.zeros(0, dtype=np.int64)) == []
