"""Paired significance tests on per-question values, and Holm's adjustment."""

from __future__ import annotations

import random

import pytest

from evaluation.compare import compare, holm, paired_test


def test_identical_configurations_are_not_different() -> None:
    values = {str(i): float(i % 2) for i in range(30)}
    result = paired_test(values, dict(values))
    assert result == {"delta": 0.0, "p_randomisation": 1.0, "p_ttest": 1.0, "questions": 30}


def test_a_consistent_gain_is_significant_and_a_coin_flip_is_not() -> None:
    rng = random.Random(1)
    base = {str(i): rng.random() * 0.5 for i in range(100)}
    better = {q: v + 0.2 for q, v in base.items()}
    result = paired_test(base, better)
    assert result["delta"] == pytest.approx(0.2)
    assert result["p_randomisation"] < 0.001 and result["p_ttest"] < 0.001
    noise = {q: v + rng.choice([-0.1, 0.1]) for q, v in base.items()}
    assert paired_test(base, noise)["p_randomisation"] > 0.01


def test_exact_randomisation_on_few_questions() -> None:
    # 3 questions, all differences +1: 2 of the 8 sign patterns are as extreme (two-sided), p = 0.25
    result = paired_test({"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 1, "c": 1})
    assert result["p_randomisation"] == pytest.approx(0.25)


def test_holm_adjustment() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


def test_compare_rows_against_the_reference() -> None:
    per_query = {"baseline": {"RR@10": {"1": 0.0, "2": 0.5, "3": 1.0}},
                 "hybrid": {"RR@10": {"1": 1.0, "2": 0.5, "3": 1.0}}}
    (row,) = compare(per_query, "baseline", measures=("RR@10",))
    assert row["configuration"] == "hybrid" and row["reference"] == "baseline"
    assert row["reference_mean"] == pytest.approx(0.5) and row["mean"] == pytest.approx(2.5 / 3)
    assert row["delta"] == pytest.approx(1 / 3) and row["significant"] is False
    with pytest.raises(ValueError):
        compare(per_query, "bm25")
