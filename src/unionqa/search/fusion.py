"""Rank fusion: pure functions over ranked (row, score) lists."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(ranked: Sequence[Sequence[tuple[int, float]]], weights: Sequence[float], k: float = 60.0) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = Σ_i w_i / (k + rank_i(d)), ranks from 1.

    Ties are broken by row id so the order is deterministic.
    """
    fused: dict[int, float] = {}
    for lst, w in zip(ranked, weights):
        for rank, (row, _) in enumerate(lst, start=1):
            fused[row] = fused.get(row, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))


def weighted_scores(ranked: Sequence[Sequence[tuple[int, float]]], weights: Sequence[float]) -> list[tuple[int, float]]:
    """Convex combination of min-max normalized channel scores (missing = 0)."""
    fused: dict[int, float] = {}
    for lst, w in zip(ranked, weights):
        if not lst:
            continue
        vals = [s for _, s in lst]
        lo, hi = min(vals), max(vals)
        span = hi - lo
        for row, s in lst:
            norm = (s - lo) / span if span > 0 else 1.0
            fused[row] = fused.get(row, 0.0) + w * norm
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))
