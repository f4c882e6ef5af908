"""Why a method misses: classify the per-instance ranks a localization run wrote.

    python -m bench.failure_analysis RANKS.jsonl [RANKS2.jsonl ...] [--method llmgenie]
        [--against bm25-py] [--cutoff 5] [--repos DIR --data LITE.jsonl]

For each instance whose gold file is not in the top `cutoff`, it records what outranked it
(test files, docs/changelogs, examples, vendored packages) and, when `--repos` is given,
the gold file's size at the base commit. With `--against`, a head-to-head of the two
methods on the same instances (who wins where). Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DOC_SUFFIXES = (".rst", ".md", ".txt", ".html", ".css", ".js", ".json", ".toml", ".cfg", ".ini")


def file_kind(path: str) -> str:
    """Coarse role of a path: test, doc, example, vendored, or source."""
    parts = path.lower().split("/")
    name = parts[-1]
    if (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or (name.endswith("_test.py") or name == "conftest.py")
    ):
        return "test"
    if name.endswith(DOC_SUFFIXES) or parts[0] in ("doc", "docs") or name.startswith("changes"):
        return "doc"
    if parts[0] in ("examples", "example", "galleries", "tutorials", "benchmarks", "asv_bench"):
        return "example"
    if "packages" in parts[:-1] or "externals" in parts[:-1] or "extern" in parts[:-1]:
        return "vendored"
    return "source"


def load_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return [r for r in rows if r.get("status") == "ok"]


def mentions_gold(text: str, gold: str) -> bool:
    """Does the issue text name the gold file (path, file name, or dotted module)?"""
    stem = gold[:-3] if gold.endswith(".py") else gold
    module = stem.replace("/", ".")
    name = gold.rsplit("/", 1)[-1]
    return gold in text or module in text or re.search(rf"\b{re.escape(name)}\b", text) is not None


def gold_lines(repos: Path, repo: str, commit: str, gold: str) -> int | None:
    git_dir = repos / f"{repo.split('/')[-1]}.git"
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{gold}"],
        capture_output=True,
        check=False,
    )
    return proc.stdout.count(b"\n") if proc.returncode == 0 else None


def analyse(
    rows: list[dict[str, Any]],
    method: str,
    cutoff: int,
    instances: dict[str, dict[str, Any]],
    repos: Path | None,
) -> str:
    mine = [r for r in rows if r["method"] == method]
    misses = [r for r in mine if r["rank"] is None or r["rank"] > cutoff]
    out = [f"## {method}: {len(misses)} of {len(mine)} instances miss the top {cutoff}"]
    top1_kind = Counter(file_kind(r["top"][0]) if r["top"] else "none" for r in misses)
    out.append("top-1 file of the misses, by kind: " + _fmt_counter(top1_kind))
    above = Counter(
        file_kind(p)
        for r in misses
        for p in (r["top"][: (r["rank"] or cutoff + 1) - 1] if r["rank"] else r["top"][:cutoff])
    )
    out.append(
        f"files ranked above the gold file (first {cutoff}), by kind: " + _fmt_counter(above)
    )
    out.append(
        "gold file's kind in the misses: "
        + _fmt_counter(Counter(file_kind(r["gold_files"][0]) for r in misses))
    )
    out.append(
        "misses by repository: "
        + _fmt_counter(Counter(r["repo"] for r in misses))
        + f"; rank beyond 10: {sum(1 for r in misses if r['rank'] is None)}"
    )
    named = [
        r
        for r in misses
        if r["instance_id"] in instances
        and mentions_gold(instances[r["instance_id"]]["problem_statement"], r["gold_files"][0])
    ]
    out.append(f"misses whose issue text names the gold file/module: {len(named)}")
    if repos is not None and instances:
        sizes = []
        for r in misses:
            inst = instances.get(r["instance_id"])
            if inst:
                n = gold_lines(repos, inst["repo"], inst["base_commit"], r["gold_files"][0])
                if n is not None:
                    sizes.append(n)
        all_sizes = []
        for r in mine:
            inst = instances.get(r["instance_id"])
            if inst:
                n = gold_lines(repos, inst["repo"], inst["base_commit"], r["gold_files"][0])
                if n is not None:
                    all_sizes.append(n)
        if sizes and all_sizes:
            out.append(
                f"gold file lines, median: misses {sorted(sizes)[len(sizes) // 2]}, "
                f"all {sorted(all_sizes)[len(all_sizes) // 2]}"
            )
    out.append("\n| instance | rank | gold | top-3 |\n|---|---:|---|---|")
    for r in misses:
        out.append(
            f"| {r['instance_id']} | {r['rank'] or '>10'} | {r['gold_files'][0]} | "
            + ", ".join(r["top"][:3])
            + " |"
        )
    return "\n".join(out)


def head_to_head(rows: list[dict[str, Any]], a: str, b: str, cutoff: int) -> str:
    ranks: dict[str, dict[str, int | None]] = {}
    for r in rows:
        ranks.setdefault(r["instance_id"], {})[r["method"]] = r["rank"]
    both = {i: m for i, m in ranks.items() if a in m and b in m}

    def hit(rank: int | None) -> bool:
        return rank is not None and rank <= cutoff

    a_only = sorted(i for i, m in both.items() if hit(m[a]) and not hit(m[b]))
    b_only = sorted(i for i, m in both.items() if hit(m[b]) and not hit(m[a]))
    return (
        f"## {a} vs {b} on {len(both)} common instances (top-{cutoff})\n"
        f"only {a}: {len(a_only)}; only {b}: {len(b_only)}\n"
        f"only {b}: {', '.join(b_only)}"
    )


def _fmt_counter(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "–"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.failure_analysis")
    p.add_argument("ranks", nargs="+", type=Path)
    p.add_argument("--method", default="llmgenie")
    p.add_argument("--against", default=None)
    p.add_argument("--cutoff", type=int, default=5)
    p.add_argument("--repos", type=Path, default=None)
    p.add_argument(
        "--data", type=Path, default=Path("../shared/bench/swebench_lite_localization.jsonl")
    )
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rows = load_rows(args.ranks)
    instances: dict[str, dict[str, Any]] = {}
    if args.data.is_file():
        with args.data.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                instances[row["instance_id"]] = row
    print(analyse(rows, args.method, args.cutoff, instances, args.repos))
    if args.against:
        print()
        print(head_to_head(rows, args.method, args.against, args.cutoff))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
