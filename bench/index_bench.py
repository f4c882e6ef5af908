"""Speed and memory of the workspace engine on a large real repository (sympy by default).

    python -m bench.index_bench --git-dir REPOS/sympy.git [--commit REV] --work WORK_DIR \
        [--updates 200] [--embed-seconds 60] [--out result.json]
    python -m bench.index_bench --path EXISTING_CHECKOUT --work WORK_DIR

Measures, each engine phase in a fresh child process (so peak RSS is per phase and counts
index worker processes too): cold index files/s, wall and CPU, for each of its two phases
(lexical: paths and outline names; symbols: the tree-sitter parse) and the time until a
search answers, a no-change re-index,
single-file `update_document` latency p50/p95, search latency p50/p95 for short queries and
for whole issue texts, index size on disk, and with local embeddings chunks/s on a
time-boxed sample. Baselines measured in the same run on the same files: reading every file,
building the plain BM25 index of bench/bm25_baseline.py, and two outside tools: ripgrep
reading every file (`rg --files | xargs cat`, the floor) and `ctags -R` (a symbol scan).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bm25_baseline import MAX_FILE_BYTES, Bm25FileIndex, read_document
from bench.git_trees import WorkTree
from bench.machine import describe, quiet_engine_logs
from bench.rss import PeakRssSampler

TARGETS = {
    "cold_files_per_s": ">= 1000 (lexical phase)",
    "update_p95_ms": "< 50",
    "search_p95_ms": "< 100",
    "peak_rss_mb": "< 600",
}

SHORT_QUERIES = [
    "solve a system of linear equations",
    "Matrix determinant",
    "latex printing of Integral",
    "simplify trigonometric expressions",
    "series expansion around infinity",
    "Poly factor over algebraic extension",
    "lambdify numpy module",
    "Piecewise with relational conditions",
    "assumptions is_positive for Symbol",
    "Rational __eq__ float comparison",
    "pretty printer unicode for sums",
    "integrate with meijerg",
    "dsolve ordinary differential equation hint",
    "subs with dictionary of replacements",
    "ImageSet intersection with Reals",
    "codegen C code printer",
    "permutation group order",
    "limit at oo of exponential",
    "sympify string parsing transformations",
    "MatrixSymbol indexing",
]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, max and mean in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (index workers).

    Quoted beside wall time: on a shared, loaded machine wall time mostly measures the
    neighbours, CPU time measures the work."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def dir_size(path: Path) -> int:
    """Bytes of all regular files under `path`."""
    total = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / name).stat().st_size
    return total


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tracked_files(root: Path) -> list[str]:
    """Regular files under `root` (relative, posix), skipping VCS directories."""
    out: list[str] = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".hg", ".svn")]
        for name in names:
            full = Path(dirpath) / name
            if full.is_file() and not full.is_symlink():
                out.append(full.relative_to(root).as_posix())
    return sorted(out)


def baselines(root: Path, files: Sequence[str]) -> dict[str, Any]:
    """Reading every file, and building plain BM25 over them: what 'fast' is relative to."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    total_bytes = 0
    for rel in files:
        with contextlib.suppress(OSError):
            total_bytes += len((root / rel).read_bytes())
    read_s, read_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    t0, c0 = time.perf_counter(), cpu_seconds()
    index = Bm25FileIndex()
    for rel in files:
        text = read_document(root / rel)
        if text is not None:
            index.add(rel, text)
    bm25_s, bm25_cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {
        "files": len(files),
        "bytes": total_bytes,
        "read_all_s": round(read_s, 3),
        "read_all_cpu_s": round(read_cpu, 3),
        "read_all_files_per_s": round(len(files) / read_s, 1),
        "bm25_build_s": round(bm25_s, 3),
        "bm25_build_cpu_s": round(bm25_cpu, 3),
        "bm25_docs": len(index),
        "bm25_files_per_s": round(len(index) / bm25_s, 1),
    }


def parse_floor(root: Path, files: Sequence[str]) -> dict[str, Any]:
    """tree-sitter's own parse of every file it has a grammar for, nothing extracted, in this
    one process: the ceiling of any symbols phase built on tree-sitter (x cores at best)."""
    from llmgenie.context.languages import get_ts_parser, language_for_path

    sources: list[tuple[Any, bytes]] = []
    for rel in files:
        lang = language_for_path(rel)
        parser = get_ts_parser(lang) if lang else None
        if parser is None:
            continue
        with contextlib.suppress(OSError):
            data = (root / rel).read_bytes()
            if len(data) <= MAX_FILE_BYTES:
                sources.append((parser, data))
    t0, c0 = time.perf_counter(), cpu_seconds()
    for parser, data in sources:
        parser.parse(data)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    per_cpu_s = len(sources) / cpu if cpu > 0 else None
    return {
        "files": len(sources),
        "seconds": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "files_per_cpu_s": round(per_cpu_s, 1) if per_cpu_s else None,
        "ceiling_files_per_s_all_cores": (
            round(per_cpu_s * len(os.sched_getaffinity(0)), 1) if per_cpu_s else None
        ),
    }


def _timed_command(cmd: str, cwd: Path) -> dict[str, Any] | None:
    """Wall and CPU seconds of a shell command (its children's rusage); None if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["bash", "-c", cmd], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        _log(f"reference failed ({cmd}): {proc.stderr.decode(errors='replace')[-300:]}")
        return None
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"command": cmd, "seconds": round(wall, 3), "cpu_s": round(cpu, 3)}


def outside_references(root: Path, files: int) -> dict[str, Any]:
    """Other tools on the same tree, measured here: ripgrep reading every file (the floor
    of any index) and universal-ctags extracting every definition (a symbol-scan peer)."""
    out: dict[str, Any] = {}
    commands = {
        "rg_read_all": "rg --files -0 | xargs -0 cat > /dev/null",
        "ctags_all": "ctags -R -f /dev/null --languages=all .",
    }
    for name, cmd in commands.items():
        if shutil.which(cmd.split()[0]) is None:
            out[name] = {"command": cmd, "missing": True}
            continue
        timed = _timed_command(cmd, root)
        if timed is not None:
            timed["files_per_s"] = round(files / timed["seconds"], 1) if timed["seconds"] else None
        out[name] = timed
    return out


def load_issue_queries(data: Path, repo: str) -> list[str]:
    """Problem statements of the benchmark instances of `repo` (realistic long queries)."""
    if not data.is_file():
        return []
    out: list[str] = []
    with data.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["repo"].endswith("/" + repo) or row["repo"] == repo:
                out.append(row["problem_statement"])
    return out


# ---------------------------------------------------------------- child: engine phases


def _open_engine(root: Path, cache: Path, embeddings: str) -> Any:
    from llmgenie.config import load_settings
    from llmgenie.engine import WorkspaceEngine

    settings = load_settings(root, index={"embeddings": embeddings, "cache_dir": str(cache)})
    return WorkspaceEngine.open(root, settings)


def child_lexical(args: argparse.Namespace) -> dict[str, Any]:
    """Cold index, no-op re-index, updates, searches, size: one fresh cache, one process."""
    root, cache = args.path, args.cache
    result: dict[str, Any] = {}
    with PeakRssSampler() as rss:
        t0, c0 = time.perf_counter(), cpu_seconds()
        engine = _open_engine(root, cache, "none")
        phases: dict[str, dict[str, Any]] = {}
        issues = load_issue_queries(args.data, args.repo_name)
        first_query = issues[0] if issues else SHORT_QUERIES[1]

        def on_progress(event: Any) -> None:
            # The first event of a stage closes the previous one; the first search that
            # answers once the lexical phase is done is the user's "time to first result".
            if event.stage in phases:
                return
            now, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            phases[event.stage] = {"started_s": round(now, 3), "started_cpu_s": round(cpu, 3)}
            if event.stage == "symbols":
                hits = engine.search(first_query, k=10)
                phases["first_search"] = {
                    "seconds": round(time.perf_counter() - t0, 3),
                    "files": len(hits.files),
                }

        summary = engine.index(progress=on_progress)
        cold_s, cold_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if "lexical" in phases and "symbols" in phases:
            lex_s = phases["symbols"]["started_s"] - phases["lexical"]["started_s"]
            lex_cpu = phases["symbols"]["started_cpu_s"] - phases["lexical"]["started_cpu_s"]
            sym_s = cold_s - phases["symbols"]["started_s"]
            sym_cpu = cold_cpu - phases["symbols"]["started_cpu_s"]
            result["phases"] = {
                "lexical": {
                    "seconds": round(lex_s, 3),
                    "cpu_s": round(lex_cpu, 3),
                    "files_per_s": round(summary.indexed / lex_s, 1) if lex_s else None,
                    "files_per_cpu_s": round(summary.indexed / lex_cpu, 1) if lex_cpu else None,
                },
                "symbols": {
                    "seconds": round(sym_s, 3),
                    "cpu_s": round(sym_cpu, 3),
                    "files_per_s": round(summary.indexed / sym_s, 1) if sym_s else None,
                    "files_per_cpu_s": round(summary.indexed / sym_cpu, 1) if sym_cpu else None,
                },
                "time_to_first_search_s": phases.get("first_search", {}).get("seconds"),
                "first_search_files": phases.get("first_search", {}).get("files"),
            }
            _log(f"phases: {result['phases']}")
        result["cold"] = {
            "seconds": round(cold_s, 2),
            "cpu_s": round(cold_cpu, 2),
            "files_per_cpu_s": round(summary.indexed / cold_cpu, 1) if cold_cpu else None,
            "summary": summary.model_dump(),
            "files_per_s": round(summary.indexed / cold_s, 1),
        }
        _log(f"cold index: {summary.indexed} files in {cold_s:.1f}s")
        result["rss_after_cold_mb"] = round(rss.peak / 2**20, 1)

        t0 = time.perf_counter()
        again = engine.index()
        result["reindex_nochange"] = {
            "seconds": round(time.perf_counter() - t0, 3),
            "indexed": again.indexed,
        }

        rng = random.Random(args.seed)
        py_files = [f for f in tracked_files(root) if f.endswith(".py")]
        picks = rng.sample(py_files, min(args.updates, len(py_files)))
        times: list[float] = []
        cpu_times: list[float] = []
        for i, rel in enumerate(picks):
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
            edited = f"{text}\n\ndef _bench_edit_{i}(value):\n    return value + {i}\n"
            t0, c0 = time.perf_counter(), time.process_time()
            engine.update_document(rel, edited)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
            engine.close_document(rel)
        result["update_document"] = latency_summary(times)
        result["update_document_cpu"] = latency_summary(cpu_times)
        sizes = sorted((root / p).stat().st_size for p in picks)
        result["update_document"]["file_bytes_p50"] = sizes[len(sizes) // 2] if sizes else 0
        _log(f"updates: {result['update_document']}")

        for label, queries in (("short", SHORT_QUERIES), ("issue_text", issues)):
            if not queries:
                continue
            engine.search(queries[0], k=10)  # warm caches once, like a running server
            lat: list[float] = []
            cpu: list[float] = []
            for q in queries:
                t0, c0 = time.perf_counter(), time.process_time()
                engine.search(q, k=10)
                lat.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            result[f"search_{label}"] = latency_summary(lat)
            result[f"search_{label}_cpu"] = latency_summary(cpu)
            _log(f"search {label}: {result[f'search_{label}']}")
        engine.close()
    result["peak_rss_mb"] = round(rss.peak / 2**20, 1)
    result["ru_maxrss_self_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    result["index_bytes"] = dir_size(cache)
    return result


def child_embeddings(args: argparse.Namespace) -> dict[str, Any]:
    """Lexical index, then local embeddings for a time-boxed sample: chunks/s."""
    from llmgenie.contracts.progress import Cancelled, CancelToken, ProgressEvent

    root, cache = args.path, args.cache
    result: dict[str, Any] = {}
    with PeakRssSampler() as rss:
        engine = _open_engine(root, cache, "local")
        t0 = time.perf_counter()
        engine.index()
        result["index_s"] = round(time.perf_counter() - t0, 2)
        before = engine.health().vectors
        cancel = CancelToken()
        timer = threading.Timer(args.embed_seconds, cancel.cancel)
        last: list[ProgressEvent] = []
        t0 = time.perf_counter()
        timer.start()
        try:
            count = engine.embed_pending(progress=last.append, cancel=cancel)
        except Cancelled:
            count = -1
        elapsed = time.perf_counter() - t0
        timer.cancel()
        after = engine.health()
        embedded = after.vectors - before
        result.update(
            embed_s=round(elapsed, 2),
            embedded_chunks=embedded,
            returned=count,
            chunks_total=after.chunks,
            chunks_per_s=round(embedded / elapsed, 1) if elapsed > 0 else None,
            provider=after.embedding_provider,
            status=after.embedding_status,
        )
        engine.close()
    result["peak_rss_mb"] = round(rss.peak / 2**20, 1)
    result["index_bytes"] = dir_size(cache)
    return result


def _run_child(phase: str, args: argparse.Namespace, cache: Path) -> dict[str, Any]:
    cmd = [
        sys.executable, "-m", "bench.index_bench", "--child", phase,
        "--path", str(args.path), "--cache", str(cache), "--updates", str(args.updates),
        "--embed-seconds", str(args.embed_seconds), "--seed", str(args.seed),
        "--data", str(args.data), "--repo-name", args.repo_name,
    ]  # fmt: skip
    env = {**os.environ, "LLMGENIE_CACHE_DIR": str(cache)}
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"error": f"child {phase} exited {proc.returncode}"}
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.index_bench")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--path", type=Path, help="an existing checkout to index")
    src.add_argument("--git-dir", type=Path, help="a bare repository to export --commit from")
    p.add_argument("--commit", default="HEAD")
    p.add_argument("--work", type=Path, default=Path(".bench-work/index"))
    p.add_argument("--updates", type=int, default=200, help="update_document calls to time")
    p.add_argument("--embed-seconds", type=float, default=60.0, help="0 skips embeddings")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--data", type=Path, default=Path("../shared/bench/swebench_lite_localization.jsonl")
    )
    p.add_argument("--repo-name", default="sympy", help="whose issue texts are the long queries")
    p.add_argument("--phases", default="lexical,embeddings", help="which engine phases to run")
    p.add_argument(
        "--keep-cache",
        action="store_true",
        help="reuse the previous run's cache (e.g. an embedding model built on first use)",
    )
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--child", choices=("lexical", "embeddings"), help=argparse.SUPPRESS)
    p.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    quiet_engine_logs()
    if args.child:
        fn = child_lexical if args.child == "lexical" else child_embeddings
        print(json.dumps(fn(args)))
        return 0
    info = describe("bench.index_bench", argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.git_dir is not None:
        tree = WorkTree(args.git_dir, (args.work / "tree").resolve())
        change = tree.checkout(args.commit)
        info["source"] = {"git_dir": args.git_dir.name, "commit": change.commit}
        args.path = tree.root
    elif args.path is None:
        raise SystemExit("give --path or --git-dir")
    args.path = args.path.resolve()
    files = tracked_files(args.path)
    _log(
        f"{info['date_utc']} {info['cpu']} x{info['nproc']}: {len(files)} files in {args.path.name}"
    )
    report: dict[str, Any] = {**info, "targets": TARGETS, "baseline": baselines(args.path, files)}
    report["references"] = outside_references(args.path, len(files))
    report["references"]["tree_sitter_parse_only"] = parse_floor(args.path, files)
    _log(f"baseline: {report['baseline']}")
    _log(f"references: {report['references']}")

    for phase in ("lexical", "embeddings"):
        if phase not in args.phases.split(","):
            continue
        if phase == "embeddings" and args.embed_seconds <= 0:
            continue
        cache = (args.work / f"cache-{phase}").resolve()
        if not args.keep_cache:
            shutil.rmtree(cache, ignore_errors=True)
        report[phase] = _run_child(phase, args, cache)
    lex = report.get("lexical", {})
    if "cold" in lex:
        report["ratios"] = {
            "cold_vs_bm25_build": round(
                lex["cold"]["files_per_s"] / report["baseline"]["bm25_files_per_s"], 2
            ),
            "cold_vs_read_all": round(
                lex["cold"]["files_per_s"] / report["baseline"]["read_all_files_per_s"], 3
            ),
        }
        ratios = report["ratios"]
        refs = report["references"]
        if "phases" in lex:
            lexical_rate = lex["phases"]["lexical"]["files_per_s"]
            ratios["lexical_phase_vs_bm25_build"] = round(
                lexical_rate / report["baseline"]["bm25_files_per_s"], 2
            )
            if refs.get("rg_read_all") and refs["rg_read_all"].get("files_per_s"):
                ratios["lexical_phase_vs_rg_read"] = round(
                    lexical_rate / refs["rg_read_all"]["files_per_s"], 3
                )
            floor = refs["tree_sitter_parse_only"].get("files_per_cpu_s")
            symbols_cpu = lex["phases"]["symbols"].get("files_per_cpu_s")
            if floor and symbols_cpu:
                ratios["symbols_phase_vs_parse_only_per_cpu_s"] = round(symbols_cpu / floor, 3)
            if refs.get("ctags_all") and refs["ctags_all"].get("files_per_s"):
                ratios["symbols_phase_vs_ctags"] = round(
                    lex["phases"]["symbols"]["files_per_s"] / refs["ctags_all"]["files_per_s"], 3
                )
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
