"""Recompute localization summaries from per-instance ranks files (merging partial runs).

    python -m bench.summarize RANKS.jsonl [MORE.jsonl ...] [--out summary.json]

Rows are keyed by (instance, method); a later file's row replaces an earlier one, and a
scored row always replaces a skipped one, so a rerun of a few instances can be merged
into a full run. Prints the same Markdown tables as the harness.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.localization_metrics import Outcome, breakdown, markdown_table


def merge_rows(paths: Sequence[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """(instance_id, method) -> the row that counts."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                key = (row["instance_id"], row.get("method", "*"))
                old = merged.get(key)
                if old is not None and old.get("status") == "ok" and row.get("status") != "ok":
                    continue
                merged[key] = row
    # A skip row carries no method: drop it where any method scored the instance.
    scored = {iid for (iid, m), r in merged.items() if r.get("status") == "ok"}
    return {k: r for k, r in merged.items() if not (k[1] == "*" and k[0] in scored)}


def summarize_rows(rows: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """Per-method breakdowns (file level, and chunk level where rows carry chunk ranks)
    plus the skipped and errored instances."""
    by_level: dict[str, dict[str, list[Outcome]]] = {"rank": {}, "chunk_rank": {}}
    by_level["chunk_line_rank"] = {}
    for (iid, method), row in sorted(rows.items()):
        if row.get("status") != "ok":
            continue
        for key, by_method in by_level.items():
            if key in row:
                by_method.setdefault(method, []).append(
                    Outcome(
                        iid,
                        row["repo"],
                        row[key],
                        bool(row["no_file_named"]),
                        str(row.get("split", "")),
                    )
                )
    return {
        "methods": {m: breakdown(outs) for m, outs in sorted(by_level["rank"].items())},
        "chunks": {
            m: {
                "function": breakdown(outs),
                "line": breakdown(by_level["chunk_line_rank"].get(m, [])),
            }
            for m, outs in sorted(by_level["chunk_rank"].items())
        },
        "skipped": sorted(iid for (iid, _), r in rows.items() if r.get("status") == "skipped"),
        "errors": sorted(
            f"{iid} {m}: {r.get('reason')}"
            for (iid, m), r in rows.items()
            if r.get("status") == "error"
        ),
    }


def render_summary(summary: dict[str, Any]) -> str:
    methods: dict[str, Any] = summary["methods"]
    rows: dict[str, dict[str, Any]] = {}
    for name, res in methods.items():
        rows[f"{name} (all)"] = res["overall"]
        rows[f"{name} (issue names no file)"] = res["no_file_named"]
        rows[f"{name} (issue names the file)"] = res["file_named"]
    per_repo: dict[str, dict[str, Any]] = {}
    for repo in sorted({r for res in methods.values() for r in res["per_repo"]}):
        for name, res in methods.items():
            if repo in res["per_repo"]:
                per_repo[f"{repo} {name}"] = res["per_repo"][repo]
    parts = [markdown_table(rows)]
    chunk_rows: dict[str, dict[str, Any]] = {}
    for name, levels in summary.get("chunks", {}).items():
        chunk_rows[f"{name} function (all)"] = levels["function"]["overall"]
        chunk_rows[f"{name} function (issue names no file)"] = levels["function"]["no_file_named"]
        for split, sub in levels["function"]["per_split"].items():
            chunk_rows[f"{name} function ({split})"] = sub
        chunk_rows[f"{name} line (all)"] = levels["line"]["overall"]
    if chunk_rows:
        parts.append(markdown_table(chunk_rows))
    parts.append(markdown_table(per_repo))
    parts.append(f"skipped: {summary['skipped'] or 'none'}; errors: {summary['errors'] or 'none'}")
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.summarize")
    p.add_argument("ranks", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    summary = summarize_rows(merge_rows(args.ranks))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(render_summary(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
