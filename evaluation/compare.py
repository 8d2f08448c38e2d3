"""Is configuration B really better than A on these questions? Paired tests on per-question values.

Both configurations answered the same questions, so the tests are paired:

* Fisher's randomisation (permutation) test — swap A and B within each question at random and
  see how often the mean difference is as large as observed — via
  ``scipy.stats.permutation_test(permutation_type="samples")``, 10,000 resamples with a fixed
  seed (exact when there are few questions). Smucker, Allan & Carterette (CIKM 2007) found it
  the most trustworthy test for IR metrics.
* The paired t-test (``scipy.stats.ttest_rel``) beside it, as papers usually report it.

Every configuration is compared with one reference (the plain baseline unless told
otherwise). Because several comparisons are made per measure, the randomisation p-values are
also given Holm-adjusted within each measure; "significant" uses the adjusted value at 0.05.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Measures compared by default (ir-measures names).
COMPARED = ("RR@10", "nDCG@10", "R@10", "R@100")
RESAMPLES = 10_000
SEED = 0
ALPHA = 0.05


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def paired_test(a: Mapping[str, float], b: Mapping[str, float], *, resamples: int = RESAMPLES,
                seed: int = SEED) -> dict[str, float]:
    """Mean of ``b - a`` over the shared questions and the two-sided p-values of both tests."""
    qids = sorted(set(a) & set(b))
    x = np.array([b[q] for q in qids], dtype=float)
    y = np.array([a[q] for q in qids], dtype=float)
    delta = float(np.mean(x - y)) if qids else 0.0
    if len(qids) < 2 or not np.any(x != y):
        return {"delta": delta, "p_randomisation": 1.0, "p_ttest": 1.0, "questions": len(qids)}
    from scipy import stats  # here, not at import: scipy.stats costs the CLI ~0.3 s at every start

    permutation = stats.permutation_test((x, y), _mean_difference, permutation_type="samples", vectorized=True,
                                         n_resamples=resamples, alternative="two-sided",
                                         random_state=np.random.default_rng(seed))
    differences = x - y
    if np.allclose(differences, differences[0]):
        p_ttest = 0.0  # the same non-zero gain on every question: no variance, t is infinite
    else:
        p_ttest = float(stats.ttest_rel(x, y).pvalue)
    return {"delta": delta, "p_randomisation": float(permutation.pvalue),
            "p_ttest": 1.0 if math.isnan(p_ttest) else p_ttest, "questions": len(qids)}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for position, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - position) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare(per_query: Mapping[str, Mapping[str, Mapping[str, float]]], reference: str,
            measures: Sequence[str] = COMPARED) -> list[dict[str, Any]]:
    """Every configuration against ``reference``: ``per_query`` is ``{config: {measure: {qid: value}}}``.

    Returns one row per (configuration, measure) with the reference's and the configuration's
    means, the difference, both p-values, the Holm-adjusted randomisation p-value and a verdict.
    """
    if reference not in per_query:
        raise ValueError(f"the reference configuration {reference!r} was not run")
    rows: list[dict[str, Any]] = []
    for measure in measures:
        block: list[dict[str, Any]] = []
        for name, values in per_query.items():
            if name == reference or measure not in values:
                continue
            base = per_query[reference][measure]
            test = paired_test(base, values[measure])
            block.append({"configuration": name, "reference": reference, "measure": measure,
                          "reference_mean": float(np.mean(list(base.values()))) if base else 0.0,
                          "mean": float(np.mean(list(values[measure].values()))) if values[measure] else 0.0,
                          **test})
        for row, adjusted in zip(block, holm([row["p_randomisation"] for row in block])):
            row["p_holm"] = adjusted
            row["significant"] = adjusted < ALPHA
        rows += block
    return rows
