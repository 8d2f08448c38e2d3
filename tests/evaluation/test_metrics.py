"""The metric library checked once against values computed by hand on a tiny qrels and run."""

from __future__ import annotations

import math

import pytest

from evaluation.metrics import aggregate, per_query, recall_curve

#: q1: gold a, b; returned c, a, d, b.  q2: gold x; returned y, z, x.  q3: gold z; nothing returned.
JUDGED = {
    "q1": ({"a": 1, "b": 1}, ["c", "a", "d", "b"]),
    "q2": ({"x": 1}, ["y", "z", "x"]),
    "q3": ({"z": 1}, []),
}


def test_values_match_hand_computation() -> None:
    values = per_query(JUDGED)
    # Recall@k = gold in top k / gold
    assert values["R@1"] == {"q1": 0.0, "q2": 0.0, "q3": 0.0}
    assert values["R@5"] == {"q1": 1.0, "q2": 1.0, "q3": 0.0}
    assert values["R@100"]["q1"] == 1.0
    # reciprocal rank of the first relevant: q1 rank 2, q2 rank 3
    assert values["RR@10"]["q1"] == pytest.approx(1 / 2)
    assert values["RR@10"]["q2"] == pytest.approx(1 / 3)
    # nDCG@10, binary gains: q1 DCG = 1/log2(3) + 1/log2(5), IDCG = 1 + 1/log2(3)
    q1 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert values["nDCG@10"]["q1"] == pytest.approx(q1)
    assert values["nDCG@10"]["q2"] == pytest.approx(1 / math.log2(4))
    means = aggregate(values)
    assert means["RR@10"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)  # the unanswered question counts as 0
    assert means["R@5"] == pytest.approx(2 / 3)


def test_rank_order_is_kept_even_where_the_library_would_break_ties_by_id() -> None:
    # trec_eval re-sorts by score and breaks ties by id; the order given here must be what is scored
    values = per_query({"q": ({"a": 1}, ["b", "a"])})
    assert values["RR@10"]["q"] == 0.5 and values["R@1"]["q"] == 0.0


def test_cutoffs_beyond_ten_and_the_recall_curve() -> None:
    ranked = [f"n{i}" for i in range(60)] + ["gold"]
    values = per_query({"q": ({"gold": 1}, ranked)})
    assert values["RR@10"]["q"] == 0.0 and values["R@10"]["q"] == 0.0 and values["R@100"]["q"] == 1.0
    curve = recall_curve({"q": ({"gold": 1}, ranked)}, depth=100)
    assert list(curve) == [1, 2, 3, 5, 10, 20, 30, 50, 100]
    assert curve[50] == 0.0 and curve[100] == 1.0
    assert list(recall_curve(JUDGED, depth=7)) == [1, 2, 3, 5]


def test_an_empty_run_scores_zero_everywhere() -> None:
    assert aggregate(per_query({"q": ({"a": 1}, [])})) == {m: 0.0 for m in
                                                           ("R@1", "R@5", "R@10", "R@100", "RR@10", "nDCG@10")}
