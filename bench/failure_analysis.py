"""Why a method misses: classify the per-instance ranks a localization run wrote.

    python -m bench.failure_analysis RANKS.jsonl [RANKS2.jsonl ...] [--method llmgenie]
        [--against bm25-py] [--cutoff 5] [--level file|chunk] [--split train]
        [--repos DIR --data LITE.jsonl]

File level (default): for each instance whose gold file is not in the top `cutoff`, it
records what outranked it (test files, docs/changelogs, examples, vendored packages) and,
when `--repos` is given, the gold file's size at the base commit. Chunk level: for each
instance whose first `cutoff` chunks miss the edited functions, whether the gold file was
reached at all, what the returned chunks were instead, and properties of the gold (edit
outside any function, several functions, function length, issue naming the function).
With `--against`, a head-to-head of the two methods on the same instances (who wins
where). Output: Markdown on stdout.
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


_CHUNK_REF_RE = re.compile(r"^(.*):(\d+)-(\d+)(?::([^:]*))?$")


def _parse_chunk(ref: str) -> tuple[str, int, int, str]:
    """'path:start-end[:symbol]' (as the ranks file writes chunks and gold spans)."""
    match = _CHUNK_REF_RE.match(ref)
    if match is None:
        return ref, 0, -1, ""
    return match.group(1), int(match.group(2)), int(match.group(3)), match.group(4) or ""


def _median(values: Sequence[int]) -> int | None:
    return sorted(values)[len(values) // 2] if values else None


def analyse_chunks(
    rows: list[dict[str, Any]], method: str, cutoff: int, instances: dict[str, dict[str, Any]]
) -> str:
    """Why the first `cutoff` chunks miss the edited functions: causes, counted."""
    mine = [r for r in rows if r["method"] == method and "chunk_rank" in r]
    misses = [r for r in mine if r["chunk_rank"] is None or r["chunk_rank"] > cutoff]
    hits = [r for r in mine if r not in misses]
    out = [
        f"## {method}: {len(misses)} of {len(mine)} instances miss the edited function "
        f"in the first {cutoff} chunks"
    ]
    causes: Counter[str] = Counter()
    returned_kind: Counter[str] = Counter()
    for r in misses:
        gold_paths = set(r["gold_files"])
        top = [_parse_chunk(c) for c in r["top_chunks"][:cutoff]]
        in_gold_file = [c for c in top if c[0] in gold_paths]
        file_rank = r.get("rank")
        if in_gold_file:
            causes["gold file's chunks returned, other parts of it"] += 1
        elif file_rank is not None and file_rank <= cutoff:
            causes["gold file in the top files, none of its chunks in the top chunks"] += 1
        else:
            causes["gold file not in the top files either"] += 1
        for c in top:
            returned_kind["gold file" if c[0] in gold_paths else file_kind(c[0])] += 1
    out.append("misses by cause: " + _fmt_counter(causes))
    out.append(f"the first {cutoff} chunks of the misses, by file: " + _fmt_counter(returned_kind))

    def gold_of(r: dict[str, Any]) -> list[tuple[str, int, int, str]]:
        return [_parse_chunk(g) for g in r["gold_spans"]]

    def outside(r: dict[str, Any]) -> bool:
        return all(not sym for *_, sym in gold_of(r))

    def several(r: dict[str, Any]) -> bool:
        return len({sym for *_, sym in gold_of(r) if sym}) > 1

    def longest(r: dict[str, Any]) -> int:
        return max((end - start + 1 for _, start, end, sym in gold_of(r) if sym), default=0)

    def named(r: dict[str, Any]) -> bool:
        text = instances.get(r["instance_id"], {}).get("problem_statement", "")
        names = {sym.rsplit(".", 1)[-1] for *_, sym in gold_of(r) if sym}
        return any(re.search(rf"\b{re.escape(n)}\b", text) for n in names if not n.startswith("__"))

    def share(group: list[dict[str, Any]], pred: Any) -> str:
        n = sum(1 for r in group if pred(r))
        return f"{n}/{len(group)}"

    out.append(
        "edit only outside functions (imports, constants, class bodies): misses "
        f"{share(misses, outside)}, hits {share(hits, outside)}"
    )
    out.append(
        f"edits in several functions: misses {share(misses, several)}, hits {share(hits, several)}"
    )
    out.append(
        "issue text names an edited function: misses "
        f"{share(misses, named)}, hits {share(hits, named)}"
    )
    out.append(
        "longest edited function, median lines: misses "
        f"{_median([longest(r) for r in misses if longest(r)])}, "
        f"hits {_median([longest(r) for r in hits if longest(r)])}"
    )

    def files_in_top(r: dict[str, Any]) -> int:
        return len({_parse_chunk(c)[0] for c in r["top_chunks"][:cutoff]})

    out.append(
        f"distinct files among the first {cutoff} chunks, median: misses "
        f"{_median([files_in_top(r) for r in misses])}, "
        f"hits {_median([files_in_top(r) for r in hits])}"
    )
    line_only = [
        r for r in hits if r.get("chunk_line_rank") is None or r["chunk_line_rank"] > cutoff
    ]
    out.append(
        f"function hits whose first {cutoff} chunks miss every changed line: {len(line_only)}"
    )
    out.append("\n| instance | chunk rank | file rank | gold spans | top-3 chunks |")
    out.append("|---|---:|---:|---|---|")
    for r in misses:
        out.append(
            f"| {r['instance_id']} | {r['chunk_rank'] or '>k'} | {r.get('rank') or '>k'} | "
            + ", ".join(r["gold_spans"][:3])
            + " | "
            + ", ".join(r["top_chunks"][:3])
            + " |"
        )
    return "\n".join(out)


def head_to_head(rows: list[dict[str, Any]], a: str, b: str, cutoff: int, key: str = "rank") -> str:
    ranks: dict[str, dict[str, int | None]] = {}
    for r in rows:
        if key in r:
            ranks.setdefault(r["instance_id"], {})[r["method"]] = r[key]
    both = {i: m for i, m in ranks.items() if a in m and b in m}

    def hit(rank: int | None) -> bool:
        return rank is not None and rank <= cutoff

    a_only = sorted(i for i, m in both.items() if hit(m[a]) and not hit(m[b]))
    b_only = sorted(i for i, m in both.items() if hit(m[b]) and not hit(m[a]))
    return (
        f"## {a} vs {b} on {len(both)} common instances (top-{cutoff}, {key})\n"
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
    p.add_argument(
        "--split",
        default=None,
        help="only rows of this split (analyse train misses, keep heldout for reporting)",
    )
    p.add_argument(
        "--level", choices=("file", "chunk"), default="file", help="gold file or edited function"
    )
    p.add_argument("--repos", type=Path, default=None)
    p.add_argument(
        "--data", type=Path, default=Path("../shared/bench/swebench_lite_localization.jsonl")
    )
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rows = load_rows(args.ranks)
    if args.split:
        rows = [r for r in rows if r.get("split") == args.split]
    instances: dict[str, dict[str, Any]] = {}
    if args.data.is_file():
        with args.data.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                instances[row["instance_id"]] = row
    if args.level == "chunk":
        print(analyse_chunks(rows, args.method, args.cutoff, instances))
    else:
        print(analyse(rows, args.method, args.cutoff, instances, args.repos))
    if args.against:
        print()
        key = "chunk_rank" if args.level == "chunk" else "rank"
        print(head_to_head(rows, args.method, args.against, args.cutoff, key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
