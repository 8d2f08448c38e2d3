"""Pure functions that fuse ranked lists of ``(id, score)`` into one.

Ties are broken by id so that the same inputs always give the same order (pyserini's
``(-score, id)`` rule); nothing here knows about documents or models.
"""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]

#: The reference constant of Cormack et al. (2009), also pyserini's default.
DEFAULT_RRF_K = 60


def sort_ranked(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Order by score descending, then id ascending."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(
    rankings: Sequence[Ranked], *, rrf_k: int = DEFAULT_RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Sum ``weight / (rrf_k + rank)`` over the lists each id appears in (rank from 1)."""
    if rrf_k < 0:
        raise ValueError("rrf_k must not be negative")
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (item_id, _score) in enumerate(ranking, start=1):
            fused[item_id] = fused.get(item_id, 0.0) + weight / (rrf_k + rank)
    return sort_ranked(fused)


def weighted_score_fusion(
    rankings: Sequence[Ranked], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Sum of each list's scores divided by that list's top score, times its weight.

    Dividing by the top score puts a BM25 list (unbounded) and a cosine list on one
    scale per question; an id missing from a list contributes nothing from it.
    """
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        if not ranking:
            continue
        top = max(score for _id, score in ranking)
        scale = 1.0 / top if top > 0 else 0.0
        for item_id, score in ranking:
            fused[item_id] = fused.get(item_id, 0.0) + weight * score * scale
    return sort_ranked(fused)
