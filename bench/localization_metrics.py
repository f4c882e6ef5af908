"""Scoring for issue -> file localization: hit@k, MRR, broken down by group.

Definition used throughout: an instance is a hit at k when ANY of its gold files (the files
the reference patch modifies; every SWE-bench Lite instance has exactly one) is among the
first k ranked files. MRR is the mean of 1/rank of the first gold file, 0 when it is not in
the returned list (so it is MRR@K for the K files asked for).

The same scoring is applied to chunk ranks (the position of the first returned chunk that
hits the gold patch's edited function, see bench.function_gold): chunk top-k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CUTOFFS = (1, 3, 5, 10)


def gold_rank(ranked_paths: Sequence[str], gold_files: Iterable[str]) -> int | None:
    """1-based rank of the first gold file in `ranked_paths`, None when absent."""
    gold = set(gold_files)
    for position, path in enumerate(ranked_paths, start=1):
        if path in gold:
            return position
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scored instance: its groups and the rank of its gold (None = missed)."""

    instance_id: str
    repo: str
    rank: int | None
    no_file_named: bool
    split: str = ""


def summarize(ranks: Sequence[int | None], cutoffs: Sequence[int] = CUTOFFS) -> dict[str, Any]:
    """hit@k shares (in %) and MRR over a list of ranks."""
    n = len(ranks)
    out: dict[str, Any] = {"n": n}
    for k in cutoffs:
        hits = sum(1 for r in ranks if r is not None and r <= k)
        out[f"top{k}"] = round(100.0 * hits / n, 1) if n else None
    out["mrr"] = round(sum(1.0 / r for r in ranks if r) / n, 3) if n else None
    return out


def breakdown(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Overall, per-repository, per-split and no-file-named summaries of outcomes."""
    repos = sorted({o.repo for o in outcomes})
    splits = sorted({o.split for o in outcomes if o.split})
    return {
        "per_split": {
            split: summarize([o.rank for o in outcomes if o.split == split]) for split in splits
        },
        "overall": summarize([o.rank for o in outcomes]),
        "no_file_named": summarize([o.rank for o in outcomes if o.no_file_named]),
        "file_named": summarize([o.rank for o in outcomes if not o.no_file_named]),
        "per_repo": {
            repo: summarize([o.rank for o in outcomes if o.repo == repo]) for repo in repos
        },
    }


def markdown_table(rows: dict[str, dict[str, Any]], cutoffs: Sequence[int] = CUTOFFS) -> str:
    """A Markdown table: one row per label, columns n, top-k..., MRR."""
    head = "| | n | " + " | ".join(f"top-{k}" for k in cutoffs) + " | MRR |"
    sep = "|---|---:|" + "---:|" * (len(cutoffs) + 1)
    lines = [head, sep]
    for label, s in rows.items():
        cells = [str(s["n"])] + [_fmt(s.get(f"top{k}")) for k in cutoffs] + [_fmt(s.get("mrr"))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    return "–" if value is None else str(value)
