"""Keeps the index in step with the editor's buffers.

didChange is debounced (Settings.index.debounce_ms) so a burst of keystrokes costs one
re-parse; requests that read the index (search, context) flush pending changes first, so
they always see what the user just typed. Updates of one document are serialised by a
per-document lock so an older text can never overwrite a newer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.lsp.session import Session
    from llmgenie.lsp.workspaces import Folder

_log = get_logger(__name__)


class DocumentSync:
    """Debounced buffer → index updates, flushed on demand."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._dirty: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def opened(self, uri: str) -> None:
        self._dirty.add(uri)
        self._spawn(self.flush(uri))

    def changed(self, uri: str) -> None:
        """Mark dirty and (re)start the debounce timer."""
        self._dirty.add(uri)
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        delay = self._debounce_s(uri)
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(delay, lambda: self._spawn(self.flush(uri)))

    def saved(self, uri: str) -> None:
        self._spawn(self.flush(uri))

    def closed(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self._dirty.discard(uri)
        self._session.invalidate_symbols(uri)
        located = self._session.registry.locate(uri)
        if located is None or located[0].engine is None:
            return
        folder, rel = located
        engine = folder.engine
        assert engine is not None
        self._spawn(self._run_locked(uri, lambda: engine.close_document(rel)))

    def open_paths(self, folder: Folder) -> list[str]:
        """Workspace-relative paths of the folder's open documents (embedding priority)."""
        paths = []
        for uri in list(self._session.server.workspace.text_documents):
            located = self._session.registry.locate(uri)
            if located is not None and located[0] is folder:
                paths.append(located[1])
        return paths

    async def push_open_documents(self, folder: Folder) -> None:
        """The engine just opened: index the folder's open buffers before anything else."""
        for uri in list(self._session.server.workspace.text_documents):
            located = self._session.registry.locate(uri)
            if located is not None and located[0] is folder:
                self._dirty.add(uri)
                await self.flush(uri)

    async def flush(self, uri: str) -> None:
        """Send the current buffer of `uri` to the index if it changed since the last flush."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if uri not in self._dirty:
            return
        located = self._session.registry.locate(uri)
        doc = self._session.server.workspace.text_documents.get(uri)
        if located is None or doc is None:
            self._dirty.discard(uri)
            return
        folder, rel = located
        engine = folder.engine
        if engine is None:
            return  # stays dirty; pushed once the engine is open
        self._dirty.discard(uri)
        text = doc.source
        if len(text) > folder.settings.index.max_file_bytes:
            _log.info("document_skipped", path=rel, reason="oversize", chars=len(text))
            return
        await self._run_locked(uri, lambda: engine.update_document(rel, text))
        self._session.invalidate_symbols(uri)

    async def flush_all(self) -> None:
        """Flush every dirty document (before reads that must see the latest buffers)."""
        for uri in list(self._dirty):
            await self.flush(uri)

    def cancel_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- internals ---------------------------------------------------------------------

    def _debounce_s(self, uri: str) -> float:
        located = self._session.registry.locate(uri)
        settings = located[0].settings if located else self._session.settings
        return settings.index.debounce_ms / 1000.0

    async def _run_locked(self, uri: str, work: Callable[[], object]) -> None:
        lock = self._locks.setdefault(uri, asyncio.Lock())
        async with lock:
            try:
                await self._session.in_query_pool(work)
            except Exception as exc:  # a bad buffer must never take the server down
                _log.warning("document_update_failed", uri=uri, error=str(exc))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
