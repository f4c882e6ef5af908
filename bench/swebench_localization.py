"""SWE-bench Lite issue -> gold-file localization: llmgenie's engine vs a plain BM25 baseline.

For each instance the repository's tree at `base_commit` is materialised in a work tree
that is kept per repository and moved between commits (instances are visited by repository,
then commit date), the index is brought up to date as the server would do it, the issue text
is the query verbatim, and the rank of the gold file among the returned files is recorded.
For methods that return chunks (llmgenie, bm25-py-chunks) the rank of the first chunk that
overlaps an edited function of the gold patch is recorded too (bench.function_gold).

    python -m bench.swebench_localization --repos DIR_OF_BARE_REPOS --work WORK_DIR \
        [--methods bm25,llmgenie] [--mode lexical|hybrid] [--limit N] [--repo sympy] \
        [--split train|heldout|all] [--k 10] [--out results.json] [--ranks ranks.jsonl]

DIR_OF_BARE_REPOS holds `<name>.git` for each repository (`sympy.git` for sympy/sympy).
Progress goes to stderr; one JSON line per (instance, method) goes to --ranks; the summary
(overall, per repository, issue-does-not-name-the-file subset) goes to --out and stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import importlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.bm25_baseline import Bm25ChunkIndex, Bm25FileIndex, read_document
from bench.function_gold import (
    CHUNK_HIT_DEFINITION,
    SPLIT_DEFINITION,
    SPLITS,
    Span,
    assign_splits,
    first_hit,
    gold_spans,
    parse_patch,
)
from bench.git_trees import GitError, TreeChange, WorkTree, commit_time, has_commit
from bench.localization_metrics import Outcome, breakdown, gold_rank, markdown_table
from bench.machine import describe, quiet_engine_logs

DEFAULT_DATA = Path("../shared/bench/swebench_lite_localization.jsonl")
DEFAULT_CLASSES = Path("../shared/bench/agentless_swebench_lite_classifications.csv")


@dataclass(frozen=True, slots=True)
class Instance:
    """One SWE-bench Lite task, reduced to what localization needs."""

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    gold_files: tuple[str, ...]
    no_file_named: bool
    patch: str = ""  # the gold patch (function-level gold); "" when the data lacks it
    split: str = "train"

    @property
    def repo_name(self) -> str:
        return self.repo.split("/")[-1]


def load_instances(data: Path, classifications: Path | None) -> list[Instance]:
    """Read the localization JSONL; flag issues whose text does not name the file.

    The gold patch comes from the JSONL's `patch` field when present, else from the
    classification CSV's `patch` column. Every instance gets its train/heldout split from
    the whole file (before any filter), so a subset run keeps each instance's split.
    """
    unnamed: set[str] = set()
    patches: dict[str, str] = {}
    if classifications is not None and classifications.is_file():
        with classifications.open(newline="", encoding="utf-8") as fh:
            for crow in csv.DictReader(fh):
                if crow.get("file location") == "None":
                    unnamed.add(crow["instance_id"])
                if crow.get("patch"):
                    patches[crow["instance_id"]] = crow["patch"]
    rows: list[dict[str, Any]] = []
    with data.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    splits = assign_splits((row["instance_id"], row["repo"]) for row in rows)
    return [
        Instance(
            instance_id=row["instance_id"],
            repo=row["repo"],
            base_commit=row["base_commit"],
            problem_statement=row["problem_statement"],
            gold_files=tuple(row["gold_files"]),
            no_file_named=row["instance_id"] in unnamed,
            patch=row.get("patch") or patches.get(row["instance_id"], ""),
            split=splits[row["instance_id"]],
        )
        for row in rows
    ]


def select(
    instances: Sequence[Instance],
    repos: Sequence[str],
    ids: Sequence[str],
    limit: int | None,
    sample: int | None,
    seed: int,
    split: str = "all",
) -> list[Instance]:
    """Filter by split, repository and instance id, then take the first `limit` or a
    random sample."""
    chosen = [
        inst
        for inst in instances
        if (split == "all" or inst.split == split)
        and (not repos or any(r in inst.repo for r in repos))
        and (not ids or inst.instance_id in ids)
    ]
    if sample is not None and sample < len(chosen):
        chosen = random.Random(seed).sample(chosen, sample)
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


Chunk = tuple[str, int, int]  # (path, start_line, end_line), 1-based inclusive


class Ranker(Protocol):
    """A retrieval method under test: kept per repository, synced per commit.

    `rank` returns files best first; a method that also ranks chunks leaves them, best
    first, in `last_chunks` (and sets `ranks_chunks`), so function-level hits can be scored.
    """

    name: str
    ranks_chunks: bool
    last_chunks: list[Chunk]

    def sync(self, tree: WorkTree, change: TreeChange) -> None: ...

    def rank(self, query: str, k: int) -> list[str]: ...

    def close(self) -> None: ...


class Bm25Ranker:
    """The plain BM25 baseline, updated incrementally from the tree's change list."""

    ranks_chunks = False

    def __init__(self, name: str, extensions: tuple[str, ...]) -> None:
        self.name = name
        self.extensions = extensions
        self.index = Bm25FileIndex()
        self.last_chunks: list[Chunk] = []

    def _wanted(self, path: str) -> bool:
        return not self.extensions or path.endswith(self.extensions)

    def sync(self, tree: WorkTree, change: TreeChange) -> None:
        for path in change.deleted:
            self.index.remove(path)
        for path in change.added + change.modified:
            text = read_document(tree.root / path) if self._wanted(path) else None
            if text is None:
                self.index.remove(path)
            else:
                self.index.add(path, text)

    def rank(self, query: str, k: int) -> list[str]:
        return [path for path, _ in self.index.search(query, k)]

    def close(self) -> None:
        self.index = Bm25FileIndex()


class Bm25ChunkRanker:
    """BM25 over the engine's own chunks of `*.py` files: the chunk-level baseline.

    The chunks are cut by `llmgenie.context.parse_document` (the parser the indexer runs)
    with the workspace's `index.chunk_max_lines`, so a chunk hit means the same thing for
    both methods; each chunk is one BM25 document (its path, then its text) with the
    tokenization of `bench.bm25_baseline`. Its file ranking is the files of the best
    chunks in order (a file scores by its best chunk).
    """

    ranks_chunks = True

    def __init__(self, name: str, extensions: tuple[str, ...]) -> None:
        self.name = name
        self.extensions = extensions
        self.index = Bm25ChunkIndex()
        self.max_lines: int | None = None
        self.last_chunks: list[Chunk] = []

    def sync(self, tree: WorkTree, change: TreeChange) -> None:
        from llmgenie.context.parser import parse_document

        if self.max_lines is None:
            from llmgenie.config import load_settings

            self.max_lines = int(load_settings(tree.root).index.chunk_max_lines)
        for path in change.deleted:
            self.index.remove_file(path)
        for path in change.added + change.modified:
            wanted = not self.extensions or path.endswith(self.extensions)
            text = read_document(tree.root / path) if wanted else None
            if text is None:
                self.index.remove_file(path)
                continue
            chunks = parse_document(path, text, self.max_lines).chunks
            self.index.set_file(path, [(c.start_line, c.end_line, c.text) for c in chunks])

    def rank(self, query: str, k: int) -> list[str]:
        hits = self.index.search(query, max(10 * k, 100))
        self.last_chunks = [(path, start, end) for (path, start, end), _ in hits[:k]]
        files: list[str] = []
        for (path, _, _), _ in hits:
            if path not in files:
                files.append(path)
        return files[:k]

    def close(self) -> None:
        self.index = Bm25ChunkIndex()


class LlmgenieRanker:
    """llmgenie's WorkspaceEngine, opened once per repository work tree and kept warm.

    `sync="index"` calls `index()` (walk + re-parse changed files, as on server start);
    `sync="refresh"` passes the changed paths to `refresh_paths` (as watched-file events do).
    In hybrid mode pending chunks are embedded before each query.
    """

    name = "llmgenie"
    ranks_chunks = True

    def __init__(self, mode: str, sync_mode: str, cache_dir: Path) -> None:
        self.mode = mode
        self.sync_mode = sync_mode
        self.cache_dir = cache_dir
        self.engine: Any = None
        self.last_degraded: list[str] = []
        self.last_chunks: list[Chunk] = []

    def sync(self, tree: WorkTree, change: TreeChange) -> None:
        if self.engine is None:
            from llmgenie.config import load_settings
            from llmgenie.engine import WorkspaceEngine

            embeddings = "none" if self.mode == "lexical" else "local"
            settings = load_settings(
                tree.root, index={"embeddings": embeddings, "cache_dir": str(self.cache_dir)}
            )
            self.engine = WorkspaceEngine.open(tree.root, settings)
            self.engine.index()
        elif self.sync_mode == "refresh" and not change.fresh:
            if change.changed:
                self.engine.refresh_paths(change.changed)
        else:
            self.engine.index()
        if self.mode == "hybrid":
            self.engine.embed_pending()

    def rank(self, query: str, k: int) -> list[str]:
        result = self.engine.search(query, k=k)
        self.last_degraded = list(result.degraded)
        self.last_chunks = [(c.path, c.start_line, c.end_line) for c in result.chunks]
        return [hit.path for hit in result.files]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


class VariantRanker:
    """llmgenie with some retrieval constants overridden, on the engine of `base`.

    Lets one replay compare many ranking settings: the index is built once per commit
    (by `base`, evaluated first) and each variant only re-runs the query. An override key
    is `module.NAME` or `module.NAME.key` (a dict entry) under `llmgenie.retrieval`.
    """

    ranks_chunks = True

    def __init__(self, name: str, base: LlmgenieRanker, overrides: dict[str, Any]) -> None:
        self.name = f"llmgenie:{name}"
        self.base = base
        self.overrides = overrides
        self.last_chunks: list[Chunk] = []
        self.last_degraded: list[str] = []

    def sync(self, tree: WorkTree, change: TreeChange) -> None:
        if self.base.engine is None:
            self.base.sync(tree, change)

    def rank(self, query: str, k: int) -> list[str]:
        with override_constants(self.overrides):
            result = self.base.engine.search(query, k=k)
        self.last_degraded = list(result.degraded)
        self.last_chunks = [(c.path, c.start_line, c.end_line) for c in result.chunks]
        return [hit.path for hit in result.files]

    def close(self) -> None:
        """The base ranker owns the engine."""


@contextlib.contextmanager
def override_constants(overrides: dict[str, Any]) -> Iterator[None]:
    """Set `module.NAME[.key]` constants of `llmgenie.retrieval` for the block, then undo."""
    undo: list[Callable[[], None]] = []
    try:
        for key, value in overrides.items():
            module_name, name, *entry = key.split(".")
            module = importlib.import_module(f"llmgenie.retrieval.{module_name}")
            current = getattr(module, name)
            if entry:
                table = dict(current)
                table[entry[0]] = value
                setattr(module, name, table)
            else:
                setattr(module, name, value)
            undo.append(functools.partial(setattr, module, name, current))
        yield
    finally:
        for step in reversed(undo):
            step()


def load_variants(spec: str | None) -> dict[str, dict[str, Any]]:
    """`--variants`: a JSON object (inline or a file path) of name -> overrides."""
    if not spec:
        return {}
    text = spec if spec.lstrip().startswith("{") else Path(spec).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SystemExit("--variants: a JSON object of name -> {module.NAME[.key]: value}")
    return {str(k): dict(v) for k, v in data.items()}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def order_for_replay(
    instances: Sequence[Instance], repos_dir: Path
) -> tuple[dict[str, list[Instance]], list[tuple[Instance, str]]]:
    """Group instances by repository, sorted by commit date; return skipped ones with why."""
    groups: dict[str, list[tuple[int, Instance]]] = {}
    skipped: list[tuple[Instance, str]] = []
    for inst in instances:
        git_dir = repos_dir / f"{inst.repo_name}.git"
        if not git_dir.exists():
            skipped.append((inst, f"no repository {git_dir.name} in {repos_dir}"))
            continue
        if not has_commit(git_dir, inst.base_commit):
            skipped.append((inst, f"base_commit {inst.base_commit[:12]} not in snapshot"))
            continue
        groups.setdefault(inst.repo, []).append((commit_time(git_dir, inst.base_commit), inst))
    ordered = {
        repo: [inst for _, inst in sorted(items, key=lambda it: (it[0], it[1].instance_id))]
        for repo, items in sorted(groups.items())
    }
    return ordered, skipped


LEVELS = ("file", "function", "line")


def instance_gold(inst: Instance, root: Path) -> tuple[list[Span], list[Span]]:
    """(function-level gold spans, changed lines) of the gold patch, read at the base
    commit checked out under `root`; empty when the data has no patch."""
    functions: list[Span] = []
    lines: list[Span] = []
    for patch in parse_patch(inst.patch):
        text = read_document(root / patch.path) if not patch.new_file else None
        if text is None:
            continue
        f_spans, l_spans = gold_spans(patch, text)
        functions.extend(f_spans)
        lines.extend(l_spans)
    return functions, lines


def run(
    instances: Sequence[Instance],
    repos_dir: Path,
    work_dir: Path,
    make_rankers: Callable[[], list[Ranker]],
    k: int,
    ranks_out: Any,
) -> tuple[dict[str, dict[str, list[Outcome]]], list[dict[str, Any]], dict[str, dict[str, float]]]:
    """Replay every instance; return outcomes per level ("file", "function", "line") and
    method, skipped/error rows, timings."""
    groups, skipped = order_for_replay(instances, repos_dir)
    problems: list[dict[str, Any]] = [
        {"instance_id": inst.instance_id, "status": "skipped", "reason": why}
        for inst, why in skipped
    ]
    for row in problems:
        _log(f"skip {row['instance_id']}: {row['reason']}")
        ranks_out.write(json.dumps(row) + "\n")
    outcomes: dict[str, dict[str, list[Outcome]]] = {level: {} for level in LEVELS}
    timings: dict[str, dict[str, float]] = {}
    total = sum(len(v) for v in groups.values())
    done = 0
    for repo, repo_instances in groups.items():
        tree = WorkTree(
            repos_dir / f"{repo_instances[0].repo_name}.git",
            work_dir / "trees" / repo.replace("/", "__"),
        )
        rankers = make_rankers()
        for inst in repo_instances:
            done += 1
            t0 = time.perf_counter()
            try:
                change = tree.checkout(inst.base_commit)
            except GitError as exc:
                row = {"instance_id": inst.instance_id, "status": "skipped", "reason": str(exc)}
                problems.append(row)
                ranks_out.write(json.dumps(row) + "\n")
                _log(f"skip {inst.instance_id}: {exc}")
                tree.commit = None  # force a fresh export next time
                continue
            checkout_s = time.perf_counter() - t0
            gold = instance_gold(inst, tree.root)
            line = [f"[{done}/{total}] {inst.instance_id} ({len(change.changed)} changed)"]
            for ranker in rankers:
                row = _evaluate(ranker, tree, change, inst, k, gold)
                row["checkout_s"] = round(checkout_s, 3)
                ranks_out.write(json.dumps(row) + "\n")
                ranks_out.flush()
                if row["status"] == "ok":
                    for level, key in (
                        ("file", "rank"),
                        ("function", "chunk_rank"),
                        ("line", "chunk_line_rank"),
                    ):
                        if key in row:
                            outcomes[level].setdefault(ranker.name, []).append(
                                Outcome(
                                    inst.instance_id,
                                    inst.repo,
                                    row[key],
                                    inst.no_file_named,
                                    inst.split,
                                )
                            )
                    t = timings.setdefault(ranker.name, {"sync_s": 0.0, "query_s": 0.0, "n": 0})
                    t["sync_s"] += row["sync_s"]
                    t["query_s"] += row["query_s"]
                    t["n"] += 1
                    chunk = f"/{row['chunk_rank']}" if "chunk_rank" in row else ""
                    line.append(f"{ranker.name}={row['rank']}{chunk}")
                else:
                    problems.append(row)
                    line.append(f"{ranker.name}=ERROR")
            _log(" ".join(line))
        for ranker in rankers:
            ranker.close()
    return outcomes, problems, timings


def _evaluate(
    ranker: Ranker,
    tree: WorkTree,
    change: TreeChange,
    inst: Instance,
    k: int,
    gold: tuple[list[Span], list[Span]] = ([], []),
) -> dict[str, Any]:
    """Sync one method to the tree and rank the issue; errors become a row, not a crash.

    The row has `rank` (gold file) and, for a chunk-ranking method on an instance with
    function-level gold, `chunk_rank` (first chunk hitting a gold function span) and
    `chunk_line_rank` (first chunk hitting a changed line)."""
    row: dict[str, Any] = {
        "instance_id": inst.instance_id,
        "repo": inst.repo,
        "method": ranker.name,
        "split": inst.split,
        "gold_files": list(inst.gold_files),
        "no_file_named": inst.no_file_named,
    }
    try:
        t0 = time.perf_counter()
        ranker.sync(tree, change)
        t1 = time.perf_counter()
        ranked = ranker.rank(inst.problem_statement, k)
        t2 = time.perf_counter()
    except Exception as exc:  # a method failing on one instance must not end the run
        row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
        _log(f"error {inst.instance_id} {ranker.name}: {row['reason']}")
        return row
    row.update(
        status="ok",
        rank=gold_rank(ranked, inst.gold_files),
        top=ranked[:10],
        sync_s=round(t1 - t0, 3),
        query_s=round(t2 - t1, 3),
    )
    functions, lines = gold
    if ranker.ranks_chunks and functions:
        chunks = ranker.last_chunks
        row.update(
            chunk_rank=first_hit(chunks, functions),
            chunk_line_rank=first_hit(chunks, lines),
            top_chunks=[f"{p}:{s}-{e}" for p, s, e in chunks[:10]],
            gold_spans=[f"{s.path}:{s.start}-{s.end}:{s.symbol or ''}" for s in functions],
        )
    degraded = getattr(ranker, "last_degraded", None)
    if degraded:
        row["degraded"] = degraded
    return row


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.swebench_localization", description=__doc__.split("\n")[0]
    )
    p.add_argument("--repos", type=Path, required=True, help="directory of bare repos <name>.git")
    p.add_argument(
        "--work", type=Path, required=True, help="scratch dir for work trees and index cache"
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--classifications", type=Path, default=DEFAULT_CLASSES)
    p.add_argument(
        "--methods",
        default="bm25,bm25-py,bm25-py-chunks,llmgenie",
        help="comma list: bm25 (all text files), bm25-py (only *.py), bm25-py-chunks "
        "(BM25 over the engine's chunks of *.py files), llmgenie",
    )
    p.add_argument(
        "--split",
        choices=(*SPLITS, "all"),
        default="all",
        help="instances of one half only (tune on train, report heldout): " + SPLIT_DEFINITION,
    )
    p.add_argument(
        "--mode", choices=("lexical", "hybrid"), default="lexical", help="llmgenie signals"
    )
    p.add_argument(
        "--sync", choices=("index", "refresh"), default="index", help="how llmgenie follows commits"
    )
    p.add_argument(
        "--variants",
        help="JSON object (or a file holding one) of name -> {module.NAME[.key]: value}: "
        "llmgenie re-ranked with those llmgenie.retrieval constants, on the same index "
        "(method llmgenie:NAME)",
    )
    p.add_argument(
        "--repo", action="append", default=[], help="only repos containing this (repeatable)"
    )
    p.add_argument("--instance", action="append", default=[], help="only these instance ids")
    p.add_argument("--limit", type=int, default=None, help="first N selected instances")
    p.add_argument("--sample", type=int, default=None, help="random N selected instances (--seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=10, help="files to rank (MRR is MRR@k)")
    p.add_argument("--out", type=Path, default=None, help="summary JSON")
    p.add_argument(
        "--ranks", type=Path, default=None, help="per-instance JSONL (default WORK/ranks.jsonl)"
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    info = describe("bench.swebench_localization", argv)
    quiet_engine_logs()
    instances = select(
        load_instances(args.data, args.classifications),
        args.repo,
        args.instance,
        args.limit,
        args.sample,
        args.seed,
        args.split,
    )
    args.work.mkdir(parents=True, exist_ok=True)
    cache_dir = (args.work / "llmgenie-cache").resolve()
    os.environ["LLMGENIE_CACHE_DIR"] = str(cache_dir)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    variants = load_variants(args.variants)
    if variants and "llmgenie" not in methods:
        raise SystemExit("--variants needs the llmgenie method")

    def make_rankers() -> list[Ranker]:
        rankers: list[Ranker] = []
        for m in methods:
            if m == "bm25":
                rankers.append(Bm25Ranker(m, ()))
            elif m == "bm25-py":
                rankers.append(Bm25Ranker(m, (".py",)))
            elif m == "bm25-py-chunks":
                rankers.append(Bm25ChunkRanker(m, (".py",)))
            elif m == "llmgenie":
                base = LlmgenieRanker(args.mode, args.sync, cache_dir)
                rankers.append(base)
                rankers.extend(VariantRanker(n, base, o) for n, o in variants.items())
            else:
                raise SystemExit(f"unknown method {m!r} (bm25, bm25-py, bm25-py-chunks, llmgenie)")
        return rankers

    ranks_path = args.ranks or args.work / "ranks.jsonl"
    _log(
        f"{info['date_utc']} {info['cpu']} x{info['nproc']}: "
        f"{len(instances)} instances (split {args.split}), methods {methods}"
    )
    t0 = time.perf_counter()
    with ranks_path.open("w", encoding="utf-8") as ranks_out:
        outcomes, problems, timings = run(
            instances, args.repos, args.work, make_rankers, args.k, ranks_out
        )
    elapsed = time.perf_counter() - t0
    summary: dict[str, Any] = {
        **info,
        "instances_selected": len(instances),
        "split": {
            "selected": args.split,
            "definition": SPLIT_DEFINITION,
            "counts": {sp: sum(1 for i in instances if i.split == sp) for sp in SPLITS},
        },
        "gold_definition": (
            "hit@k if any gold file (files the reference patch modifies) is in the top k"
        ),
        "chunk_hit_definition": CHUNK_HIT_DEFINITION,
        "config": {
            "k": args.k,
            "mode": args.mode,
            "sync": args.sync,
            "variants": variants,
            "bm25": {
                "k1": 1.2,
                "b": 0.75,
                "documents": (
                    "path + whole text; bm25: all text files <= 1 MiB, bm25-py: *.py; "
                    "bm25-py-chunks: path + text of each engine chunk of *.py files"
                ),
            },
        },
        "elapsed_s": round(elapsed, 1),
        "skipped": [p for p in problems if p["status"] == "skipped"],
        "errors": [
            {"instance_id": p["instance_id"], "method": p.get("method"), "reason": p["reason"]}
            for p in problems
            if p["status"] == "error"
        ],
        "methods": {},
        "chunks": {
            name: {
                "function": breakdown(outs),
                "line": breakdown(outcomes["line"].get(name, [])),
            }
            for name, outs in outcomes["function"].items()
        },
    }
    for name, outs in outcomes["file"].items():
        t = timings.get(name, {"sync_s": 0.0, "query_s": 0.0, "n": 0})
        n = max(1, int(t["n"]))
        summary["methods"][name] = {
            **breakdown(outs),
            "mean_sync_s": round(t["sync_s"] / n, 3),
            "mean_query_s": round(t["query_s"] / n, 3),
        }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(render(summary))
    return 0


def _subset_rows(label: str, res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Table rows of one breakdown: all, the two issue subsets, and each split present."""
    rows = {
        f"{label} (all)": res["overall"],
        f"{label} (issue names no file)": res["no_file_named"],
        f"{label} (issue names the file)": res["file_named"],
    }
    if len(res.get("per_split", {})) > 1:
        for split, sub in res["per_split"].items():
            rows[f"{label} ({split})"] = sub
    return rows


def render(summary: dict[str, Any]) -> str:
    """Human-readable Markdown of a summary: file level overall and subsets, chunk
    (function) level, then per repository."""
    methods: dict[str, Any] = summary["methods"]
    rows: dict[str, dict[str, Any]] = {}
    for name, res in methods.items():
        rows.update(_subset_rows(name, res))
    split = summary.get("split", {})
    parts = [
        f"{summary['command']}\n{summary['date_utc']}, {summary['cpu']} x{summary['nproc']}, "
        f"llmgenie {summary['llmgenie_commit']}, {summary['elapsed_s']} s",
        f"split: {split.get('selected', 'all')} {split.get('counts', {})} "
        f"({split.get('definition', '')})",
        "File level (gold file among the first k files):\n\n" + markdown_table(rows),
    ]
    chunk_rows: dict[str, dict[str, Any]] = {}
    for name, levels in summary.get("chunks", {}).items():
        chunk_rows.update(_subset_rows(f"{name} function", levels["function"]))
        chunk_rows[f"{name} line (all)"] = levels["line"]["overall"]
    if chunk_rows:
        parts.append(
            "Chunk level (a hit among the first k chunks; "
            + summary.get("chunk_hit_definition", "")
            + "):\n\n"
            + markdown_table(chunk_rows)
        )
    repos = sorted({r for res in methods.values() for r in res["per_repo"]})
    per_repo: dict[str, dict[str, Any]] = {}
    for repo in repos:
        for name, res in methods.items():
            if repo in res["per_repo"]:
                per_repo[f"{repo} {name}"] = res["per_repo"][repo]
    parts.append(markdown_table(per_repo))
    if summary["skipped"] or summary["errors"]:
        parts.append(f"skipped: {len(summary['skipped'])}, errors: {len(summary['errors'])}")
    return "\n\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
