"""Parse throughput benchmark: `python tests/context/bench_parse.py TREE [--procs N]`.

Discovers TREE like the indexer, reads and parses every kept file (symbols, references,
chunks) with parse_document, and prints files/s and MB/s for 1..N worker processes, by
wall clock and by CPU time (what idle cores would do). Not a test (no asserts): speed is
measured here, not in timed tests.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from llmgenie.context.parser import parse_document
from llmgenie.workspace.discovery import discover_files
from llmgenie.workspace.files import FileText, read_workspace_file


def _work(batch: list[tuple[str, str]]) -> tuple[int, int, int, int, int, float]:
    cpu_start = time.process_time()
    files = size = symbols = refs = chunks = 0
    for rel, path in batch:
        read = read_workspace_file(path, rel_path=rel)
        if not isinstance(read, FileText):
            continue
        parsed = parse_document(rel, read.text)
        files += 1
        size += read.size
        symbols += len(parsed.symbols)
        refs += len(parsed.references)
        chunks += len(parsed.chunks)
    return files, size, symbols, refs, chunks, time.process_time() - cpu_start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", type=Path)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    found = discover_files(args.tree)
    discover_s = time.perf_counter() - start
    items = [(f.rel_path, f.path) for f in found.files]
    report: dict[str, object] = {
        "files": len(items),
        "discover_s": round(discover_s, 3),
        "discover_files_per_s": round(len(items) / discover_s),
        "skipped": found.skipped_counts(),
    }
    for procs in range(1, args.procs + 1):
        batches = [items[i :: procs * 8] for i in range(procs * 8)]
        start = time.perf_counter()
        if procs == 1:
            totals = [_work(items)]
        else:
            with ProcessPoolExecutor(procs) as pool:
                totals = list(pool.map(_work, batches))
        seconds = time.perf_counter() - start
        files, size, symbols, refs, chunks = (int(sum(t[i] for t in totals)) for i in range(5))
        cpu = sum(t[5] for t in totals)
        report[f"procs_{procs}"] = {
            "seconds": round(seconds, 2),
            "files_per_s": round(files / seconds),
            # CPU-time based: what idle cores would do (the wall clock lies on a busy box).
            "cpu_s": round(cpu, 2),
            "files_per_cpu_s": round(files / cpu),
            "projected_files_per_s": round(files / cpu * procs),
            "mb_per_s": round(size / seconds / 1e6, 2),
            "symbols": symbols,
            "references": refs,
            "chunks": chunks,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
