"""A full incremental index pass: discover, diff against the catalog, parse, write.

Change detection: size+mtime equal → unchanged without reading; otherwise the worker
hashes the bytes and only parses when the hash differs.

Many changed files (a cold index, a branch switch) go in two phases, so search works
within seconds: "lexical" writes each file's row, path tokens and the names its grammar-
free outline finds (context/outline.py) at the speed of reading files; "symbols" then
parses them with tree-sitter and replaces those rows with symbols, references, imports
and chunks, and search improves as it lands. A file the first phase wrote stays marked
`state='lexical'` until the second parses it, so an interrupted pass resumes there.

Parsing runs in a process pool (fork when the caller has a single thread, native
threads included; spawn otherwise) with a bounded window of batches in flight, so memory
stays flat; one writer commits every ~200 files or half second, so an editor's
`update_document` never waits long for the write lock. (With spawn, as with any
multiprocessing, a calling script must guard its entry point.)
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.contracts.progress import CancelToken, ProgressCallback, ProgressEvent
from llmgenie.index import catalog
from llmgenie.index.payload import FilePayload
from llmgenie.index.schema import release_free_pages
from llmgenie.index.worker import FileTask, WorkerConfig, prepare_batch, prepare_lexical_batch
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import INDEX_DURATION, INDEX_FILES
from llmgenie.workspace.discovery import discover_files

_log = get_logger(__name__)

BATCH_FILES = 48
COMMIT_FILES = 200
COMMIT_SECONDS = 0.5
POOL_MIN_FILES = 300
WORKER_NICENESS = 5
# Below this many changed files one full pass is about as quick as two phases.
TWO_PHASE_MIN_FILES = 300


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


def worker_count(configured: int = 0) -> int:
    """Parse workers: `configured` when set, else every core but one for the editor (both
    cores of a 2-core machine: the workers run at lower priority, see _worker_init)."""
    if configured > 0:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return cores if cores <= 2 else cores - 1


def _worker_init(parent_pid: int) -> None:
    """Pool-worker initializer: lower priority, so typing in the editor wins the CPU over
    a cold index; exit when the indexing process dies (a killed index must not leave
    orphaned workers behind)."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _batches(tasks: list[FileTask], size: int) -> Iterator[list[FileTask]]:
    for start in range(0, len(tasks), size):
        yield tasks[start : start + size]


BatchFn = Callable[[list[FileTask], WorkerConfig], list[FilePayload]]


def start_method() -> str:
    """ "fork" only when the process has a single thread, native ones included.

    A thread that holds a lock (malloc's, a runtime's) at fork time leaves that lock held
    forever in the child. `threading` sees only Python threads; the vector store's Rust
    runtime and the ONNX thread pool are native, and forking beside them hung the
    parse workers. Linux lists every thread in /proc/self/task.
    """
    if os.name != "posix" or threading.active_count() != 1:
        return "spawn"
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc (macOS): Python's count is all we know
        threads = 1
    return "fork" if threads == 1 else "spawn"


def _pool_results(
    tasks: list[FileTask],
    config: WorkerConfig,
    cancel: CancelToken | None,
    configured: int = 0,
    prepare: BatchFn = prepare_batch,
) -> Iterator[list[FilePayload]]:
    """Payload batches from a process pool, at most a few batches in flight at once."""
    workers = worker_count(configured)
    ctx = multiprocessing.get_context(start_method())
    pending = list(_batches(tasks, BATCH_FILES))
    window = workers * 3
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(os.getpid(),),
    ) as pool:
        inflight: list[tuple[list[FileTask], Future[list[FilePayload]]]] = []
        pos = 0
        try:
            while pos < len(pending) or inflight:
                while pos < len(pending) and len(inflight) < window:
                    batch = pending[pos]
                    inflight.append((batch, pool.submit(prepare, batch, config)))
                    pos += 1
                batch, fut = inflight.pop(0)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    _log.warning("index_pool_broken", fallback="in-process")
                    yield prepare(batch, config)
                    for rest, _ in inflight:
                        yield prepare(rest, config)
                    for rest in pending[pos:]:
                        if cancel is not None and cancel.cancelled:
                            return
                        yield prepare(rest, config)
                    return
        finally:
            for _, fut in inflight:
                fut.cancel()


def _inline_results(
    tasks: list[FileTask], config: WorkerConfig, prepare: BatchFn = prepare_batch
) -> Iterator[list[FilePayload]]:
    for batch in _batches(tasks, BATCH_FILES):
        yield prepare(batch, config)


def _results(
    tasks: list[FileTask],
    config: WorkerConfig,
    cancel: CancelToken | None,
    configured: int,
    prepare: BatchFn,
) -> Iterator[list[FilePayload]]:
    """From the process pool when there is enough work for it, else in this thread."""
    if len(tasks) >= POOL_MIN_FILES and worker_count(configured) > 1:
        return _pool_results(tasks, config, cancel, configured, prepare)
    return _inline_results(tasks, config, prepare)


class _Writer:
    """Buffers payloads and commits them in batches (every COMMIT_FILES or COMMIT_SECONDS),
    counting what landed in the pass result."""

    def __init__(
        self, conn: sqlite3.Connection, write_lock: threading.RLock, result: PassResult
    ) -> None:
        self._conn = conn
        self._lock = write_lock
        self._result = result
        self._buffered: list[FilePayload] = []
        self._last_commit = time.perf_counter()
        self.lexical: list[str] = []
        """Paths written by the first phase, in order (the second phase's work list)."""

    def add(self, batch: list[FilePayload]) -> None:
        self._buffered.extend(batch)
        if (
            len(self._buffered) >= COMMIT_FILES
            or time.perf_counter() - self._last_commit > COMMIT_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if not self._buffered:
            return
        with self._lock, catalog.transaction(self._conn):
            n_symbols, n_chunks = catalog.BatchWriter(self._conn).write(self._buffered)
        result = self._result
        for p in self._buffered:
            if p.status == "parsed":
                result.indexed += 1
                result.changed_paths.append(p.path)
            elif p.status == "lexical":
                self.lexical.append(p.path)
                result.changed_paths.append(p.path)
            elif p.status == "skipped":
                result.skipped[p.skip_reason] = result.skipped.get(p.skip_reason, 0) + 1
                result.changed_paths.append(p.path)
            else:
                result.unchanged += 1
        if self._buffered[0].status != "lexical":  # first-phase symbols are provisional
            result.symbols += n_symbols
        result.chunks += n_chunks
        self._buffered = []
        self._last_commit = time.perf_counter()


def _run_stage(
    stage: str,
    source: Iterator[list[FilePayload]],
    total: int,
    writer: _Writer,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> bool:
    """Write every batch of `source`; False when cancelled (what was written stays)."""
    _emit(progress, stage, 0, total, f"{total} files")
    done = 0
    try:
        for batch in source:
            writer.add(batch)
            done += len(batch)
            _emit(progress, stage, done, total, batch[-1].path if batch else "")
            if cancel is not None and cancel.cancelled:
                return False
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
        writer.flush()
    return True


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
    unfinished: list[FileTask] = []  # first phase done, second not (an interrupted pass)
    for wf in discovery.files:
        present.add(wf.rel_path)
        if wf.rel_path in exclude:
            continue
        state = known.get(wf.rel_path)
        if state is not None and state.size == wf.size and state.mtime_ns == wf.mtime_ns:
            if state.state == "lexical":
                unfinished.append(FileTask(wf.rel_path, wf.path, wf.size, wf.mtime_ns, None))
            else:
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
    config = WorkerConfig(settings.index.max_file_bytes, settings.index.chunk_max_lines)
    writer = _Writer(conn, write_lock, result)
    full = tasks
    if len(tasks) >= TWO_PHASE_MIN_FILES:
        by_path = {task.rel_path: task for task in tasks}
        source = _results(tasks, config, cancel, settings.index.workers, prepare_lexical_batch)
        finished = _run_stage("lexical", source, len(tasks), writer, progress, cancel)
        if not finished:
            result.cancelled = True
        # The second phase parses what the first wrote, whatever its hash says.
        full = [
            FileTask(path, task.abs_path, task.size, task.mtime_ns, None)
            for path in writer.lexical
            for task in (by_path[path],)
        ]
    full = full + unfinished
    if full and not result.cancelled:
        stage = "symbols" if len(tasks) >= TWO_PHASE_MIN_FILES or unfinished else "index"
        source = _results(full, config, cancel, settings.index.workers, prepare_batch)
        if not _run_stage(stage, source, len(full), writer, progress, cancel):
            result.cancelled = True
    with write_lock:
        catalog.set_meta(conn, "last_indexed_at", str(time.time()))
        if result.indexed or result.removed:
            release_free_pages(conn)
    elapsed = time.perf_counter() - started
    INDEX_DURATION.observe(elapsed)
    INDEX_FILES.labels(outcome="indexed").inc(result.indexed)
    INDEX_FILES.labels(outcome="removed").inc(result.removed)
    _emit(progress, "index", len(full), len(full), "cancelled" if result.cancelled else "done")
    _log.info(
        "index_finished",
        root=str(root),
        indexed=result.indexed,
        unchanged=result.unchanged,
        removed=result.removed,
        two_phase=len(tasks) >= TWO_PHASE_MIN_FILES,
        seconds=round(elapsed, 3),
        cancelled=result.cancelled,
    )
    return result


def _emit(progress: ProgressCallback | None, stage: str, done: int, total: int, msg: str) -> None:
    if progress is not None:
        progress(ProgressEvent(stage=stage, done=done, total=total, message=msg))
