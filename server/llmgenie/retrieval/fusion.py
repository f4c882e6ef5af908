"""Weighted reciprocal rank fusion with the reasons kept for each fused item.

RRF adds `weight / (k + rank)` per signal: it needs no score calibration across signals
(bm25, cosine, PageRank live on different scales), and items ranked well by several
signals rise above items ranked first by only one.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from llmgenie.contracts.search import ScoreReason

K = TypeVar("K", bound=Hashable)

RRF_K = 10.0


@dataclass(slots=True)
class Signal(Generic[K]):
    """One ranked list: (key, raw score, detail) best first, and its fusion weight."""

    name: str
    weight: float
    ranked: list[tuple[K, float, str]] = field(default_factory=list)

    @classmethod
    def from_scores(
        cls,
        name: str,
        weight: float,
        scores: dict[K, float],
        details: dict[K, str] | None = None,
        limit: int = 500,
    ) -> Signal[K]:
        ordered = heapq.nlargest(limit, scores.items(), key=lambda kv: kv[1])
        d = details or {}
        return cls(name, weight, [(key, score, d.get(key, "")) for key, score in ordered])


@dataclass(slots=True)
class Fused(Generic[K]):
    """A fused item: its score and (signal, rank, contribution, detail) per signal."""

    score: float = 0.0
    reasons: list[tuple[str, int, float, str, float]] = field(default_factory=list)

    def reason_models(self) -> list[ScoreReason]:
        """Pydantic reasons, built only for items that are actually returned."""
        return [
            ScoreReason(signal=s, rank=r, contribution=round(c, 6), detail=d or f"score {raw:.3g}")
            for s, r, c, d, raw in self.reasons
        ]


def fuse(signals: list[Signal[K]], k: float = RRF_K) -> dict[K, Fused[K]]:
    """key -> fused score and per-signal reasons (rank, contribution, detail).

    `ranked` must be sorted best first; equal raw scores share a rank.
    """
    out: dict[K, Fused[K]] = {}
    for signal in signals:
        if signal.weight <= 0:
            continue
        rank = 0
        previous: float | None = None
        for position, (key, raw, detail) in enumerate(signal.ranked, start=1):
            # Ties share a rank (competition ranking), so equal evidence counts equally.
            if previous is None or raw != previous:
                rank = position
                previous = raw
            contribution = signal.weight / (k + rank)
            item = out.get(key)
            if item is None:
                item = out[key] = Fused()
            item.score += contribution
            item.reasons.append((signal.name, rank, contribution, detail, raw))
    return out
