"""Background indexing of the workspace folders: lexical first, then embeddings.

One asyncio task drains a queue of folders; the blocking engine work runs on a dedicated
single-thread executor so editor requests (on their own pool) never wait behind it.
Pause cancels the current pass through its CancelToken (the engine leaves a consistent
index: finished files stay, the rest is picked up on resume); resume re-runs the
incremental pass; rebuild clears a folder's index first.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from llmgenie.lsp.workdone import WorkDone
from llmgenie.observability.logging import get_logger
from llmgenie.progress import Cancelled, CancelToken, ProgressEvent

if TYPE_CHECKING:
    from llmgenie.lsp.session import Session
    from llmgenie.lsp.workspaces import Folder

_log = get_logger(__name__)

IndexState = Literal["idle", "indexing", "paused"]
_STATUS_INTERVAL_S = 0.5  # llmgenie/status carries live counts, at most twice a second


class IndexingController:
    """Runs, pauses, resumes and rebuilds background indexing; reports state changes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.state: IndexState = "idle"
        self.stage = ""
        self.done = 0
        self.total = 0
        self.paused = False
        self.last_error: str | None = None
        self._queue: dict[Path, bool] = {}  # folder root -> rebuild?
        self._task: asyncio.Task[None] | None = None
        self._cancel: CancelToken | None = None
        self._current: Path | None = None
        self._last_status = 0.0

    def snapshot(self) -> dict[str, object]:
        """The `indexing` object of llmgenie/status and llmgenie/health."""
        snap: dict[str, object] = {"state": self.state, "done": self.done, "total": self.total}
        if self.stage:
            snap["stage"] = self.stage
        return snap

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
        self.schedule(self._session.registry.folders())
        if self._task is None or self._task.done():
            self._set_state("idle")
        return False

    def rebuild(self) -> None:
        """Throw the indexes away and index every folder from scratch."""
        self.paused = False
        if self._cancel is not None:
            self._cancel.cancel()
        self.schedule(self._session.registry.folders(), rebuild=True)

    def _pause_from_editor(self) -> None:
        self.pause()

    async def stop(self) -> None:
        """Cancel and wait for the current pass (used by shutdown)."""
        self._queue.clear()
        if self._cancel is not None:
            self._cancel.cancel()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                _log.warning("indexing_stop_timeout")

    # -- internals ---------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    def _set_state(self, state: IndexState, stage: str = "") -> None:
        self.state, self.stage = state, stage
        if state != "indexing":
            self.done = self.total = 0
        self._session.publish_status()

    async def _drain(self) -> None:
        while self._queue and not self.paused:
            root, rebuild = next(iter(self._queue.items()))
            del self._queue[root]
            folder = next((f for f in self._session.registry.folders() if f.root == root), None)
            if folder is None:
                continue
            self._current = root
            try:
                await self._index_folder(folder, rebuild)
            except Exception as exc:  # a broken folder must not stop the others
                self.last_error = f"{folder.root.name}: {exc}"
                _log.exception("indexing_failed", root=str(folder.root))
                self._session.notify_user_error(
                    f"llmgenie: indexing {folder.root.name} failed: {exc}"
                )
            finally:
                self._current = None
                self._cancel = None
        self._set_state("paused" if self.paused else "idle")

    async def _index_folder(self, folder: Folder, rebuild: bool) -> None:
        loop = asyncio.get_running_loop()
        cancel = CancelToken()
        self._cancel = cancel
        # Cancelling the progress bar in the editor pauses indexing (resume picks it up).
        bar = WorkDone(
            self._session.server, f"llmgenie: indexing {folder.root.name}", self._pause_from_editor
        )
        self._set_state("indexing", "open")
        await bar.begin("opening index")

        def on_progress(event: ProgressEvent) -> None:
            loop.call_soon_threadsafe(self._on_progress, bar, event)

        outcome = "done"
        try:
            pool = self._session.index_pool
            if rebuild:
                await loop.run_in_executor(pool, self._session.rebuild_index, folder)
            engine = await loop.run_in_executor(pool, folder.open_engine)
            await self._session.documents.push_open_documents(folder)
            cancel.raise_if_cancelled()
            summary = await loop.run_in_executor(pool, lambda: engine.index(on_progress, cancel))
            if summary.cancelled:
                raise Cancelled()
            self._session.invalidate_symbols()
            outcome = f"{summary.files} files ({summary.indexed} parsed) in {summary.seconds:.1f}s"
            self._session.publish_status()
            if folder.settings.index.embeddings != "none":
                self._set_state("indexing", "embed")
                priority = self._session.documents.open_paths(folder)
                count = await loop.run_in_executor(
                    pool, lambda: engine.embed_pending(priority, on_progress, cancel)
                )
                outcome += f", {count} chunks embedded"
        except Cancelled:
            outcome = "paused" if self.paused else "cancelled"
        finally:
            bar.end(outcome)
        _log.info("indexing_finished", root=str(folder.root), outcome=outcome)

    def _on_progress(self, bar: WorkDone, event: ProgressEvent) -> None:
        """Runs on the loop: update counters, the progress bar, and (on stage change) status."""
        stage_changed = event.stage != self.stage
        self.stage, self.done, self.total = event.stage, event.done, event.total
        unit = "chunks" if event.stage.startswith("embed") else "files"
        message = f"{event.stage}: {event.done}/{event.total} {unit}"
        if event.message:
            message += f" — {event.message}"
        bar.report(message, event.percent, force=stage_changed or event.done >= event.total)
        now = time.monotonic()
        if stage_changed or now - self._last_status >= _STATUS_INTERVAL_S:
            self._last_status = now
            self._session.publish_status()
