"""SWE-bench Lite issue -> gold-file localization with a model: `llmgenie localize` against
the engine's search alone, on the same index, with the same replay as
`bench.swebench_localization` (work trees per repository moved between commits).

    LLMGENIE_LLM__MODEL=openai/gpt-4o-mini OPENAI_API_KEY=... \\
    python -m bench.localize_bench --repos DIR_OF_BARE_REPOS --work WORK_DIR \\
        [--model M] [--api-base URL] [--max-tool-calls 6] [--limit N] [--repo sympy] \\
        [--out results.json] [--details details.jsonl]

Two methods are reported: `search` (the engine's ranking, no model) and `localize` (the
model's validated picks, then the search ranking). The localize method's per-instance
answers (source, tool calls, tokens, the hits with their functions, notes, dropped items)
go to --details; the summary adds how often the model's answer was used and what it cost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from bench.git_trees import TreeChange, WorkTree
from bench.localization_metrics import breakdown
from bench.machine import describe, quiet_engine_logs
from bench.swebench_localization import (
    DEFAULT_CLASSES,
    DEFAULT_DATA,
    LlmgenieRanker,
    Ranker,
    load_instances,
    render,
    run,
    select,
)


class LocalizeRanker(LlmgenieRanker):
    """The engine of `LlmgenieRanker`, asked through the model-driven Localizer."""

    name = "localize"
    ranks_chunks = False  # its hits are files and definitions, scored at file level here

    def __init__(
        self,
        mode: str,
        sync_mode: str,
        cache_dir: Path,
        model: str | None,
        max_tool_calls: int,
        details: IO[str],
    ) -> None:
        super().__init__(mode, sync_mode, cache_dir)
        self.model = model
        self.max_tool_calls = max_tool_calls
        self.details = details
        self.stats = {"n": 0, "model": 0, "tool_calls": 0, "tokens": 0, "dropped": 0}

    def rank(self, query: str, k: int) -> list[str]:
        from llmgenie.agents.localize import LocalizeLimits
        from llmgenie.app.localization import localize_in

        limits = LocalizeLimits(max_tool_calls=self.max_tool_calls, candidates=max(k, 10))
        result = localize_in(
            self.engine, self.engine.settings, query, model=self.model, limits=limits
        )
        self.stats["n"] += 1
        self.stats["model"] += result.source == "model"
        self.stats["tool_calls"] += len(result.tool_calls)
        self.stats["tokens"] += result.tokens
        self.stats["dropped"] += len(result.dropped)
        self.last_degraded = list(result.notes)
        row: dict[str, Any] = result.model_dump(exclude={"query"})
        row["query_head"] = query[:120]
        self.details.write(json.dumps(row) + "\n")
        self.details.flush()
        return result.files()[:k]


class SharedSearchRanker:
    """The same engine's search ranking (no model), without a second index."""

    name = "search"
    ranks_chunks = False

    def __init__(self, owner: LlmgenieRanker) -> None:
        self.owner = owner
        self.last_degraded: list[str] = []
        self.last_chunks: list[Any] = []

    def sync(self, tree: WorkTree, change: TreeChange) -> None:
        """The owner ranker synced the engine just before (it comes first)."""

    def rank(self, query: str, k: int) -> list[str]:
        result = self.owner.engine.search(query, k=k)
        self.last_degraded = list(result.degraded)
        return [hit.path for hit in result.files]

    def close(self) -> None:
        """The owner closes the engine."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.localize_bench", description=__doc__)
    p.add_argument("--repos", type=Path, required=True, help="directory of bare repos <name>.git")
    p.add_argument("--work", type=Path, required=True, help="scratch dir for trees and index")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--classifications", type=Path, default=DEFAULT_CLASSES)
    p.add_argument("--model", default=None, help="litellm model (default: the configured one)")
    p.add_argument("--api-base", default=None, help="OpenAI-compatible base URL for --model")
    p.add_argument("--max-tool-calls", type=int, default=6)
    p.add_argument("--mode", choices=("lexical", "hybrid"), default="lexical")
    p.add_argument("--repo", action="append", default=[], help="only repos containing this")
    p.add_argument("--instance", action="append", default=[], help="only these instance ids")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--sample", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--out", type=Path, default=None, help="summary JSON")
    p.add_argument("--details", type=Path, default=None, help="default WORK/localize.jsonl")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    info = describe("bench.localize_bench", argv)
    quiet_engine_logs()
    if args.model:
        os.environ["LLMGENIE_LLM__MODEL"] = args.model
    if args.api_base:
        os.environ["LLMGENIE_LLM__API_BASE"] = args.api_base
    instances = select(
        load_instances(args.data, args.classifications),
        args.repo,
        args.instance,
        args.limit,
        args.sample,
        args.seed,
    )
    args.work.mkdir(parents=True, exist_ok=True)
    cache_dir = (args.work / "llmgenie-cache").resolve()
    os.environ["LLMGENIE_CACHE_DIR"] = str(cache_dir)
    details_path = args.details or args.work / "localize.jsonl"
    localizers: list[LocalizeRanker] = []
    t0 = time.perf_counter()
    with (
        details_path.open("w", encoding="utf-8") as details,
        (args.work / "localize_ranks.jsonl").open("w", encoding="utf-8") as ranks_out,
    ):

        def make_rankers() -> list[Ranker]:
            owner = LocalizeRanker(
                args.mode, "index", cache_dir, args.model, args.max_tool_calls, details
            )
            localizers.append(owner)
            return [owner, SharedSearchRanker(owner)]

        outcomes, problems, timings = run(
            instances, args.repos, args.work, make_rankers, args.k, ranks_out
        )
    totals = (
        {key: sum(r.stats[key] for r in localizers) for key in localizers[0].stats}
        if localizers
        else {}
    )
    n = max(1, totals.get("n", 0))
    summary: dict[str, Any] = {
        **info,
        "instances_selected": len(instances),
        "config": {
            "k": args.k,
            "mode": args.mode,
            "model": os.environ.get("LLMGENIE_LLM__MODEL"),
            "max_tool_calls": args.max_tool_calls,
        },
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "skipped": [p for p in problems if p["status"] == "skipped"],
        "errors": [p for p in problems if p["status"] == "error"],
        "localize": {
            "answers_from_model": round(totals.get("model", 0) / n, 3),
            "mean_tool_calls": round(totals.get("tool_calls", 0) / n, 2),
            "mean_tokens": round(totals.get("tokens", 0) / n, 1),
            "mean_dropped": round(totals.get("dropped", 0) / n, 2),
        },
        "methods": {},
    }
    for name, outs in outcomes["file"].items():
        t = timings.get(name, {"sync_s": 0.0, "query_s": 0.0, "n": 0})
        runs = max(1, int(t["n"]))
        summary["methods"][name] = {
            **breakdown(outs),
            "mean_sync_s": round(t["sync_s"] / runs, 3),
            "mean_query_s": round(t["query_s"] / runs, 3),
        }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(render(summary))
    print(json.dumps(summary["localize"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
