"""Edit benchmark: an edit to a large open file -> `search` sees the new identifier.

    python -m bench.edit_bench FILE [--edits 200] [--warmup 10] [--seed 0] [--broken 0.2]
        [--gc server|default]

FILE is a large Python file (5,000+ lines; e.g. sympy/matrices/matrixbase.py of a sympy
checkout). It is copied into two fresh workspaces, indexed (embeddings off) and opened as
an editor buffer in both; then the same random edits go to both engines, interleaved so
machine load hits both alike:
  - incremental: WorkspaceEngine.update_document as the language server calls it (tree
    re-used, only the edited span re-queried, unchanged chunks' tokens and rows re-used);
  - full: the same engine with `incremental_edits = False` (a fresh parse every time),
    the baseline.
An edit adds a line `<marker> = (<i>)` at a random line, with that line's indentation
(positions inside multi-line expressions, where the line would not be valid code, are
redrawn); with probability --broken it is typed in two steps, `<marker> = (<i>` first (a
syntax error, reported apart as while_syntax_error) and then closed. Each edit is timed
from update_document until `search(marker)` returns the chunk holding the new line (wall
and process CPU), and update_document alone. Every --check-every edits the incremental
engine's stored rows are compared with the full engine's (they must be equal). Prints one
JSON object; progress on stderr. Results: docs/benchmarks_lsp.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.machine import describe, quiet_engine_logs


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


def _summaries(rows: Sequence[tuple[float, ...]]) -> dict[str, Any]:
    return {
        "update_wall": _summary([r[0] for r in rows]),
        "update_cpu": _summary([r[1] for r in rows]),
        "edit_to_search_wall": _summary([r[2] for r in rows]),
        "edit_to_search_cpu": _summary([r[3] for r in rows]),
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _open(root: Path, incremental: bool) -> Any:
    from llmgenie.config import load_settings
    from llmgenie.engine import WorkspaceEngine

    settings = load_settings(
        root, index={"embeddings": "none", "cache_dir": str(root.parent / f"{root.name}-cache")}
    )
    engine = WorkspaceEngine.open(root, settings)
    engine.incremental_edits = incremental
    engine.index()
    return engine


def _rows(engine: Any, rel: str) -> tuple[list[tuple[Any, ...]], ...]:
    """The file's symbols (with their signatures and docstrings), refs and chunks (with
    their texts) as stored, ids left out."""
    from llmgenie.index.schema import chunk_text, unpack_docs

    with engine.db.snapshot() as view:
        fid = view.files.by_path[rel]
        conn = view.conn
        blob = conn.execute("SELECT docs FROM symbol_docs WHERE file_id=?", (fid,)).fetchone()
        docs = unpack_docs(blob[0]) if blob else []
        symbols = [
            (*row[:7], docs[row[7]] if row[7] is not None else None)
            for row in conn.execute(
                "SELECT name, qualified_name, kind, start_line, end_line, start_col, parent, doc"
                " FROM symbols WHERE file_id=? ORDER BY 1, 2, 4",
                (fid,),
            )
        ]
        refs = [
            tuple(r)
            for r in conn.execute(
                "SELECT name, kind, count FROM refs WHERE file_id=? ORDER BY 1, 2", (fid,)
            )
        ]
        chunks = [
            (start, end, symbol, kind, chunk_text(own, whole, start, end), vid)
            for start, end, symbol, kind, own, whole, vid in conn.execute(
                "SELECT c.start_line, c.end_line, c.symbol, c.kind, c.text, t.text, c.vec_id"
                " FROM chunks c LEFT JOIN file_texts t ON t.file_id = c.file_id"
                " WHERE c.file_id=? ORDER BY 1",
                (fid,),
            )
        ]
        return symbols, refs, chunks


def marker(i: int) -> str:
    """A new identifier per edit that is one search token (no underscores, digits or
    capitals, which the tokenizer would split into parts shared by earlier markers)."""
    return "zq" + "".join(chr(ord("a") + int(d)) for d in f"{i:05d}")


def _has_errors(text: str) -> bool:
    from llmgenie.context.languages import get_ts_parser

    parser = get_ts_parser("python")
    assert parser is not None
    return parser.parse(text.encode("utf-8", "surrogatepass")).root_node.has_error


def _edit(text: str, i: int, rng: random.Random, broken: bool) -> tuple[str, int, str | None]:
    """The text with a new line `<marker> = <i>` at a random line (with that line's
    indentation), the line's number, and with `broken` the text the user goes on to type
    (the line is first left as `<marker> = (<i>`, a syntax error, then closed).
    Positions where the finished line would be a syntax error (inside a multi-line
    expression) are redrawn, outside the timed region: a user does not leave them so."""
    lines = text.split("\n")
    while True:
        at = rng.randrange(len(lines))
        line = lines[at]
        indent = line[: len(line) - len(line.lstrip())]
        done = [*lines[:at], f"{indent}{marker(i)} = ({i})", *lines[at:]]
        finished = "\n".join(done)
        if not _has_errors(finished):
            break
    if not broken:
        return finished, at + 1, None
    done[at] = f"{indent}{marker(i)} = ({i}"
    return "\n".join(done), at + 1, finished


def _timed_edit(
    engine: Any, rel: str, text: str, i: int, line: int, version: int
) -> tuple[float, ...]:
    """(update wall, update cpu, visible wall, visible cpu) for one edit; the clock stops
    when search's best chunk is the one holding the new line."""
    t0, c0 = time.perf_counter(), time.process_time()
    engine.update_document(rel, text, version)
    t1, c1 = time.perf_counter(), time.process_time()
    chunks = engine.search(marker(i), k=3).chunks
    t2, c2 = time.perf_counter(), time.process_time()
    best = chunks[0] if chunks else None
    if best is None or best.path != rel or not best.start_line <= line <= best.end_line:
        raise SystemExit(f"edit {i}: search did not find the new identifier in {rel}")
    return t1 - t0, c1 - c0, t2 - t0, c2 - c0


def run(args: argparse.Namespace) -> dict[str, Any]:
    quiet_engine_logs()
    source = Path(args.file)
    text = source.read_text(encoding="utf-8")
    rel = source.name
    rng = random.Random(args.seed)
    result: dict[str, Any] = {
        **describe("bench.edit_bench", sys.argv[1:]),
        "file": {"name": rel, "lines": text.count("\n") + 1, "bytes": len(text.encode())},
        "edits": args.edits,
    }
    with tempfile.TemporaryDirectory(prefix="llmgenie-edit-bench-") as tmp:
        engines = {}
        for mode in ("incremental", "full"):
            root = Path(tmp) / mode
            root.mkdir()
            shutil.copyfile(source, root / rel)
            engines[mode] = _open(root, incremental=(mode == "incremental"))
            engines[mode].update_document(rel, text, 0)  # didOpen
        if args.gc == "server":
            from llmgenie.app import heap

            # As the language server does when its first index pass goes idle.
            heap.freeze_after_indexing()
            result["frozen_objects"] = heap.settle()
        samples: dict[str, list[tuple[float, ...]]] = {m: [] for m in engines}
        broken_samples: dict[str, list[tuple[float, ...]]] = {m: [] for m in engines}
        current = text
        total = args.warmup + args.edits
        version = 0
        for i in range(total):
            broken = rng.random() < args.broken
            current, line, finished = _edit(current, i, rng, broken)
            texts = [current] if finished is None else [current, finished]
            for n, state in enumerate(texts):
                version += 1
                order = list(engines) if version % 2 == 0 else list(reversed(engines))
                for mode in order:
                    timing = _timed_edit(engines[mode], rel, state, i, line, version)
                    if i >= args.warmup:
                        (broken_samples if n == 0 and broken else samples)[mode].append(timing)
            if finished is not None:
                current = finished
            checked = args.check_every and i % args.check_every == 0
            if checked and _rows(engines["incremental"], rel) != _rows(engines["full"], rel):
                raise SystemExit(f"edit {i}: incremental rows differ from a full parse")
            if (i + 1) % 50 == 0:
                _log(f"{i + 1}/{total} edits")
        for mode in engines:
            result[mode] = _summaries(samples[mode])
            if broken_samples[mode]:
                result[mode]["while_syntax_error"] = _summaries(broken_samples[mode])
        result["incremental"]["parses"] = dict(engines["incremental"].open_document_stats())
        for engine in engines.values():
            engine.close()
    inc, full = result["incremental"], result["full"]
    result["speedup_p50"] = round(
        full["edit_to_search_wall"]["p50_ms"] / inc["edit_to_search_wall"]["p50_ms"], 2
    )
    result["speedup_p95"] = round(
        full["edit_to_search_wall"]["p95_ms"] / inc["edit_to_search_wall"]["p95_ms"], 2
    )
    return result


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="a large Python file (5,000+ lines)")
    p.add_argument("--edits", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--broken",
        type=float,
        default=0.2,
        help="share of edits typed in two steps, the first a syntax error (measured apart)",
    )
    p.add_argument(
        "--gc",
        choices=("default", "server"),
        default="server",
        help="server: freeze the heap after indexing, as the language server does "
        "(llmgenie/app/heap.py); default: the interpreter's collector settings",
    )
    p.add_argument(
        "--check-every", type=int, default=10, help="compare stored rows every N edits (0: off)"
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
