"""A full incremental index pass: discover, diff against the catalog, parse, write.

Change detection: size+mtime equal → unchanged without reading; otherwise the worker
hashes the bytes and only parses when the hash differs. Parsing runs in a small process
pool (fork when the caller is single-threaded, spawn otherwise) with a bounded window of
batches in flight, so memory stays flat; one writer commits every ~200 files or half
second, so an editor's `update_document` never waits long for the write lock. (With
spawn, as with any multiprocessing, a calling script must guard its entry point.)
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.contracts.progress import CancelToken, ProgressCallback, ProgressEvent
from llmgenie.index import catalog
from llmgenie.index.payload import FilePayload
from llmgenie.index.worker import FileTask, WorkerConfig, prepare_batch
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import INDEX_DURATION, INDEX_FILES
from llmgenie.workspace.discovery import discover_files

_log = get_logger(__name__)

BATCH_FILES = 48
COMMIT_FILES = 200
COMMIT_SECONDS = 0.5
POOL_MIN_FILES = 300


@dataclass(slots=True)
class PassResult:
    """What one pass did (the engine turns it into an IndexSummary)."""

    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    symbols: int = 0
    chunks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False
    changed_paths: list[str] = field(default_factory=list)


def worker_count() -> int:
    """Parse workers: one per core up to 2 (the writer needs a share of the CPU too)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, (cores or 1)))


def _exit_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: exit when the indexing process dies (a killed index must
    not leave orphaned workers behind)."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _batches(tasks: list[FileTask], size: int) -> Iterator[list[FileTask]]:
    for start in range(0, len(tasks), size):
        yield tasks[start : start + size]


def _pool_results(
    tasks: list[FileTask], config: WorkerConfig, cancel: CancelToken | None
) -> Iterator[list[FilePayload]]:
    """Payload batches from a process pool, at most a few batches in flight at once."""
    workers = worker_count()
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    ctx = multiprocessing.get_context(method)
    pending = list(_batches(tasks, BATCH_FILES))
    window = workers * 3
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        inflight: list[tuple[list[FileTask], Future[list[FilePayload]]]] = []
        pos = 0
        try:
            while pos < len(pending) or inflight:
                while pos < len(pending) and len(inflight) < window:
                    batch = pending[pos]
                    inflight.append((batch, pool.submit(prepare_batch, batch, config)))
                    pos += 1
                batch, fut = inflight.pop(0)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    _log.warning("index_pool_broken", fallback="in-process")
                    yield prepare_batch(batch, config)
                    for rest, _ in inflight:
                        yield prepare_batch(rest, config)
                    for rest in pending[pos:]:
                        if cancel is not None and cancel.cancelled:
                            return
                        yield prepare_batch(rest, config)
                    return
        finally:
            for _, fut in inflight:
                fut.cancel()


def _inline_results(tasks: list[FileTask], config: WorkerConfig) -> Iterator[list[FilePayload]]:
    for batch in _batches(tasks, BATCH_FILES):
        yield prepare_batch(batch, config)


def run_index_pass(
    root: Path,
    settings: Settings,
    conn: sqlite3.Connection,
    write_lock: threading.RLock,
    *,
    exclude: set[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PassResult:
    """Bring the catalog up to date with the files under `root` (see module docstring)."""
    started = time.perf_counter()
    result = PassResult()
    discovery = discover_files(root, settings)
    for reason, n in discovery.skipped_counts().items():
        result.skipped[reason] = result.skipped.get(reason, 0) + n
    with write_lock:
        known = catalog.file_states(conn)
    exclude = exclude or set()
    present: set[str] = set()
    tasks: list[FileTask] = []
    for wf in discovery.files:
        present.add(wf.rel_path)
        if wf.rel_path in exclude:
            continue
        state = known.get(wf.rel_path)
        if state is not None and state.size == wf.size and state.mtime_ns == wf.mtime_ns:
            result.unchanged += 1
            continue
        tasks.append(
            FileTask(wf.rel_path, wf.path, wf.size, wf.mtime_ns, state.hash if state else None)
        )
    deleted = [p for p in known if p not in present and p not in exclude]
    if deleted:
        with write_lock, catalog.transaction(conn):
            result.removed = catalog.delete_files(conn, deleted)
        result.changed_paths.extend(deleted)
    total = len(tasks)
    _emit(progress, "index", 0, total, f"{total} files to parse")
    config = WorkerConfig(settings.index.max_file_bytes, settings.index.chunk_max_lines)
    source = (
        _pool_results(tasks, config, cancel)
        if total >= POOL_MIN_FILES and worker_count() > 1
        else _inline_results(tasks, config)
    )
    buffered: list[FilePayload] = []
    last_commit = time.perf_counter()
    done = 0

    def flush() -> None:
        nonlocal buffered, last_commit
        if not buffered:
            return
        with write_lock, catalog.transaction(conn):
            n_symbols, n_chunks = catalog.BatchWriter(conn).write(buffered)
        for p in buffered:
            if p.status == "parsed":
                result.indexed += 1
                result.changed_paths.append(p.path)
            elif p.status == "skipped":
                result.skipped[p.skip_reason] = result.skipped.get(p.skip_reason, 0) + 1
                result.changed_paths.append(p.path)
            else:
                result.unchanged += 1
        result.symbols += n_symbols
        result.chunks += n_chunks
        buffered = []
        last_commit = time.perf_counter()

    try:
        for batch in source:
            buffered.extend(batch)
            done += len(batch)
            if len(buffered) >= COMMIT_FILES or time.perf_counter() - last_commit > COMMIT_SECONDS:
                flush()
            _emit(progress, "index", done, total, batch[-1].path if batch else "")
            if cancel is not None and cancel.cancelled:
                result.cancelled = True
                break
    finally:
        if isinstance(source, Iterator):
            close = getattr(source, "close", None)
            if close is not None:
                close()
        flush()
    with write_lock:
        catalog.set_meta(conn, "last_indexed_at", str(time.time()))
    elapsed = time.perf_counter() - started
    INDEX_DURATION.observe(elapsed)
    INDEX_FILES.labels(outcome="indexed").inc(result.indexed)
    INDEX_FILES.labels(outcome="removed").inc(result.removed)
    _emit(progress, "index", done, total, "done" if not result.cancelled else "cancelled")
    _log.info(
        "index_finished",
        root=str(root),
        indexed=result.indexed,
        unchanged=result.unchanged,
        removed=result.removed,
        seconds=round(elapsed, 3),
        cancelled=result.cancelled,
    )
    return result


def _emit(progress: ProgressCallback | None, stage: str, done: int, total: int, msg: str) -> None:
    if progress is not None:
        progress(ProgressEvent(stage=stage, done=done, total=total, message=msg))
