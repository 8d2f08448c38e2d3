from __future__ import annotations

import pytest

from kb import reciprocal_rank_fusion, weighted_score_fusion


def test_rrf_matches_hand_computed_scores() -> None:
    fused = reciprocal_rank_fusion([[("a", 9.0), ("b", 5.0)], [("b", 0.9), ("c", 0.8)]], rrf_k=60)
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["c"] == pytest.approx(1 / 62)
    assert [item for item, _ in fused] == ["b", "a", "c"]


def test_rrf_ties_are_broken_by_id_deterministically() -> None:
    first = reciprocal_rank_fusion([[("z", 1.0)], [("a", 1.0)]])
    second = reciprocal_rank_fusion([[("a", 1.0)], [("z", 1.0)]])
    assert first == second == [("a", 1 / 61), ("z", 1 / 61)]


def test_rrf_weights_and_validation() -> None:
    fused = dict(reciprocal_rank_fusion([[("a", 1)], [("b", 1)]], weights=[2.0, 1.0]))
    assert fused["a"] == pytest.approx(2 / 61)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[("a", 1)]], weights=[1.0, 2.0])


def test_weighted_fusion_normalises_each_list_by_its_top_score() -> None:
    fused = dict(weighted_score_fusion([[("a", 10.0), ("b", 5.0)], [("b", 0.8), ("c", 0.4)]], [0.2, 0.8]))
    assert fused["a"] == pytest.approx(0.2)
    assert fused["b"] == pytest.approx(0.2 * 0.5 + 0.8)
    assert fused["c"] == pytest.approx(0.8 * 0.5)
