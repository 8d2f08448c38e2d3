"""Percentiles of latency samples, and the median and p99 of a figure over repeated runs."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np


def latency(samples_ms: Sequence[float]) -> dict[str, float | int]:
    """p50, p99, mean and max of samples in milliseconds (with how many there were)."""
    if not samples_ms:
        return {"n": 0}
    values = np.asarray(samples_ms, dtype=np.float64)
    return {"n": int(values.size), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2), "mean_ms": round(float(values.mean()), 2),
            "max_ms": round(float(values.max()), 2)}


def over_runs(values: Sequence[float], digits: int = 2) -> dict[str, float | list[float]]:
    """The median and p99 of one figure measured once per repeated run, and every run's value."""
    if not values:
        return {"runs": []}
    return {"median": round(statistics.median(values), digits),
            "p99": round(float(np.percentile(np.asarray(values, dtype=np.float64), 99)), digits),
            "runs": [round(value, digits) for value in values]}
