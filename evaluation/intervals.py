"""How far a set's figure could move on another draw of questions: bootstrap intervals.

A question set is a sample. The hotline-over-laws test split has 84 questions, the epidemic
``local_dev`` split 58: one question more or less answered moves Recall@10 by .012 and
answer@5 by .017, and refitting the learned ranker with another random seed alone (same
features, same rows) moved them by up to .030 and .034. A figure that rises by less than its
interval's width may be a better system or a luckier draw. Each figure the suite reports gets
the 95% percentile-bootstrap interval of its mean over the set's questions (SciPy's
``scipy.stats.bootstrap``: questions drawn with replacement, 2,000 times, a fixed seed so that
a report is reproducible).

The interval is about the questions, not the system: it says how much the same search would
score on other questions like these, not how much a retrained model would vary (that is the
seed's share, measured in the README).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Share of resampled means the interval holds.
LEVEL = 0.95
RESAMPLES = 2_000
#: Fixed, so that the same per-question values always give the same interval.
SEED = 20261204


def mean_interval(values: Sequence[float], *, level: float = LEVEL, resamples: int = RESAMPLES) -> tuple[float, float] | None:
    """The bootstrap interval of the mean of ``values`` (one per question), or None for none.

    Values that are all equal (every question answered, or none) give that value at both ends:
    no resample can differ."""
    data = np.asarray(values, dtype=np.float64)
    if not len(data):
        return None
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])
    from scipy.stats import bootstrap

    result = bootstrap((data,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                       vectorized=True, rng=np.random.default_rng(SEED))
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)
