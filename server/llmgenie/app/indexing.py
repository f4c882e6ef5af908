"""Background indexing of the open folders: lexical first, then embeddings.

One asyncio task drains a queue of folders; the blocking engine work runs on a dedicated
single-thread executor so interactive requests (on their own pool) never wait behind it.
Pause cancels the current pass through its CancelToken (the engine leaves a consistent
index: finished files stay, the rest is picked up on resume); resume re-runs the
incremental pass; rebuild drops a folder's index data (never its runs or audit log) first.
Progress goes out as events, at most one report per 100 ms.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from llmgenie.app import heap
from llmgenie.app.documents import DocumentSync
from llmgenie.app.events import EventSink, Notice, ProgressBegin, ProgressEnd, ProgressReport
from llmgenie.app.folders import Folder, FolderRegistry
from llmgenie.contracts.progress import Cancelled, CancelToken, ProgressEvent
from llmgenie.contracts.status import IndexingState, IndexingStatus
from llmgenie.locations import locations_for
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

REPORT_INTERVAL_S = 0.1
STATUS_INTERVAL_S = 0.5  # llmgenie/status carries live counts, at most twice a second
STOP_TIMEOUT_S = 10.0


def drop_index(folder: Folder) -> Path:
    """Close the folder's engine and delete its index directory (catalog, vectors).

    Run records and the audit log live elsewhere (llmgenie.locations) and are not touched.
    Holds the folder's lock throughout, so no request can reopen the index mid-delete.
    """
    with folder.lock:
        folder.close_engine()
        directory = locations_for(folder.root, folder.settings).index_dir
        shutil.rmtree(directory, ignore_errors=True)
    _log.info("index_dropped", root=str(folder.root), directory=str(directory))
    return directory


class IndexScheduler:
    """Runs, pauses, resumes and rebuilds background indexing; reports as it goes."""

    def __init__(
        self,
        registry: FolderRegistry,
        documents: DocumentSync,
        pool: Executor,
        emit: EventSink,
        on_status: Callable[[], None],
        on_indexed: Callable[[], None],
        progress_handlers: dict[str, Callable[[], None]],
    ) -> None:
        self._registry = registry
        self._documents = documents
        self._pool = pool
        self._emit = emit
        self._on_status = on_status
        self._on_indexed = on_indexed
        self._handlers = progress_handlers
        self.status = IndexingStatus()
        self._files: dict[Path, int] = {}  # folder root -> files its last pass indexed
        self.paused = False
        self.last_error: str | None = None
        self._queue: dict[Path, bool] = {}  # folder root -> rebuild?
        self._task: asyncio.Task[None] | None = None
        self._cancel: CancelToken | None = None
        self._current: Path | None = None
        self._last_report = 0.0
        self._last_status = 0.0

    def schedule(self, folders: list[Folder], rebuild: bool = False) -> None:
        """Queue folders for an (incremental, or full when `rebuild`) pass."""
        for folder in folders:
            self._queue[folder.root] = rebuild or self._queue.get(folder.root, False)
        if not self.paused:
            self._ensure_running()

    def forget(self, folder: Folder) -> None:
        """A folder left the workspace: drop it from the queue, stop it if it is running."""
        self._queue.pop(folder.root, None)
        if self._current == folder.root and self._cancel is not None:
            self._cancel.cancel()

    def pause(self) -> bool:
        """Stop background work until resume; the current pass ends at a consistent point."""
        self.paused = True
        if self._current is not None:
            self._queue.setdefault(self._current, False)
        if self._cancel is not None:
            self._cancel.cancel()
        self._set_state("paused")
        return True

    def resume(self) -> bool:
        """Continue: every folder gets an incremental pass (cheap for unchanged files)."""
        self.paused = False
        self.schedule(self._registry.folders())
        if self._task is None or self._task.done():
            self._set_state("idle")
        return False

    def rebuild(self) -> None:
        """Throw the indexes away and index every folder from scratch."""
        self.paused = False
        if self._cancel is not None:
            self._cancel.cancel()
        self.schedule(self._registry.folders(), rebuild=True)

    def _pause_from_editor(self) -> None:
        self.pause()

    async def stop(self) -> None:
        """Cancel and wait for the current pass (shutdown)."""
        self._queue.clear()
        if self._cancel is not None:
            self._cancel.cancel()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT_S)
            except (TimeoutError, asyncio.CancelledError):
                _log.warning("indexing_stop_timeout")

    # -- internals ---------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def _set_state(self, state: IndexingState, stage: str | None = None) -> None:
        """A new state: a pass reports its own counts; paused keeps where it stopped, idle
        counts the indexed files (the editor says "up to date (N files)")."""
        folder = self._current.name if self._current is not None and state == "indexing" else None
        done, total = 0, 0
        if state == "paused":
            done, total = self.status.done, self.status.total
        elif state == "idle":
            done = total = sum(self._files.values())
        self.status = IndexingStatus(
            state=state, stage=stage, folder=folder, done=done, total=total
        )
        self._on_status()

    async def _drain(self) -> None:
        while self._queue and not self.paused:
            root, rebuild = next(iter(self._queue.items()))
            del self._queue[root]
            folder = self._registry.get(root)
            if folder is None:
                continue
            self._current = root
            try:
                await self._index_folder(folder, rebuild)
            except Exception as exc:  # a broken folder must not stop the others
                self.last_error = f"{folder.name}: {exc}"
                _log.exception("indexing_failed", root=str(folder.root))
                self._emit(Notice("error", f"llmgenie: indexing {folder.name} failed: {exc}"))
            finally:
                self._current = None
                self._cancel = None
        self._set_state("paused" if self.paused else "idle")
        if not self.paused:
            heap.settle()

    async def _index_folder(self, folder: Folder, rebuild: bool) -> None:
        loop = asyncio.get_running_loop()
        cancel = CancelToken()
        self._cancel = cancel
        token = f"llmgenie-index-{uuid.uuid4().hex[:12]}"
        # Cancelling the progress in the editor pauses indexing (resume picks it up).
        self._handlers[token] = self._pause_from_editor
        self._set_state("indexing", "open")
        self._emit(ProgressBegin(token, f"llmgenie: indexing {folder.name}", "opening index", True))

        def on_progress(event: ProgressEvent) -> None:  # called from the index thread
            loop.call_soon_threadsafe(self._on_progress, token, event)

        outcome = "done"
        try:
            if rebuild:
                await loop.run_in_executor(self._pool, drop_index, folder)
            engine = await loop.run_in_executor(self._pool, folder.open_engine)
            await self._documents.push_open(folder)
            cancel.raise_if_cancelled()
            summary = await loop.run_in_executor(
                self._pool, lambda: engine.index(on_progress, cancel)
            )
            if summary.cancelled:
                raise Cancelled()
            self._files[folder.root] = summary.files
            outcome = f"{summary.files} files ({summary.indexed} parsed) in {summary.seconds:.1f}s"
            self._on_indexed()
            if folder.settings.index.embeddings != "none":
                self._set_state("indexing", "embed")
                priority = self._documents.open_rel_paths(folder)
                count = await loop.run_in_executor(
                    self._pool, lambda: engine.embed_pending(priority, on_progress, cancel)
                )
                outcome += f", {count} chunks embedded"
        except Cancelled:
            outcome = "paused" if self.paused else "cancelled"
        finally:
            self._handlers.pop(token, None)
            self._emit(ProgressEnd(token, outcome))
        _log.info("indexing_finished", root=str(folder.root), outcome=outcome)

    def _on_progress(self, token: str, event: ProgressEvent) -> None:
        """On the loop: update the counts; report at most every 100 ms (and every stage
        change and the last step); refresh the status at most twice a second."""
        stage_changed = event.stage != self.status.stage
        self.status = self.status.model_copy(
            update={"stage": event.stage, "done": event.done, "total": event.total}
        )
        now = time.monotonic()
        if (
            stage_changed
            or event.done >= event.total
            or now - self._last_report >= REPORT_INTERVAL_S
        ):
            self._last_report = now
            unit = "chunks" if event.stage.startswith("embed") else "files"
            message = f"{event.stage}: {event.done}/{event.total} {unit}"
            if event.message:
                message += f" — {event.message}"
            self._emit(ProgressReport(token, message, event.percent))
        if stage_changed or now - self._last_status >= STATUS_INTERVAL_S:
            self._last_status = now
            self._on_status()
