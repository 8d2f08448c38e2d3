"""Bootstrap intervals of a set's figures: how far they could move on another draw of questions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluation.intervals import mean_interval


def test_an_interval_holds_the_mean_and_matches_the_normal_approximation() -> None:
    answered = [1.0] * 50 + [0.0] * 34  # R@10 .595 over 84 questions, as the hotline-over-laws test split
    low, high = mean_interval(answered)
    share = 50 / 84
    half = 1.96 * math.sqrt(share * (1 - share) / 84)  # ~.105: the binomial's normal approximation
    assert low < share < high
    assert low == pytest.approx(share - half, abs=0.02) and high == pytest.approx(share + half, abs=0.02)


def test_more_questions_give_a_narrower_interval() -> None:
    rng = np.random.default_rng(3)
    small, large = rng.random(60), rng.random(600)
    assert np.subtract(*mean_interval(small)[::-1]) > 2 * np.subtract(*mean_interval(large)[::-1])


def test_the_same_values_give_the_same_interval() -> None:
    values = np.random.default_rng(5).random(100).tolist()
    assert mean_interval(values) == mean_interval(values)


def test_equal_values_and_no_values() -> None:
    assert mean_interval([1.0, 1.0, 1.0]) == (1.0, 1.0)  # every question answered: no resample differs
    assert mean_interval([0.0] * 84) == (0.0, 0.0)
    assert mean_interval([]) is None
