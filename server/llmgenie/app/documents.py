"""Keeps the index in step with the editor's open buffers.

Changes are debounced (Settings.index.debounce_ms) so a burst of keystrokes costs one
re-parse; reads that must see what the user just typed (search, context, runs) flush
pending changes first. Updates of one document are serialised, and each carries the
buffer's version, so an older text can never overwrite a newer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from llmgenie.app.folders import Folder, FolderRegistry
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BufferText:
    """An open document's current text and the editor's version of it."""

    text: str
    version: int | None = None


class Offload(Protocol):
    """Runs blocking work off the event loop and awaits its result."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


class Buffers(Protocol):
    """The editor's open documents, as the adapter knows them."""

    def text(self, path: Path) -> BufferText | None:
        """The current text of an open document (None when it is not open)."""
        ...

    def open_paths(self) -> list[Path]:
        """Paths of every open document."""
        ...


class NoBuffers:
    """For adapters without an editor (the CLI): nothing is ever open."""

    def text(self, path: Path) -> BufferText | None:
        return None

    def open_paths(self) -> list[Path]:
        return []


class DocumentSync:
    """Debounced buffer → index updates, flushed on demand."""

    def __init__(
        self,
        registry: FolderRegistry,
        buffers: Buffers,
        run: Offload,
        on_reindexed: Callable[[Path | None], None],
    ) -> None:
        self._registry = registry
        self._buffers = buffers
        self._run = run
        self._on_reindexed = on_reindexed
        self._timers: dict[Path, asyncio.TimerHandle] = {}
        self._dirty: set[Path] = set()
        self._locks: dict[Path, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def opened(self, path: Path) -> None:
        self._dirty.add(path)
        self._spawn(self.flush(path))

    def changed(self, path: Path) -> None:
        """Mark dirty and (re)start the debounce timer."""
        self._dirty.add(path)
        self._cancel_timer(path)
        located = self._registry.locate(path)
        delay = located[0].settings.index.debounce_ms / 1000.0 if located else 0.15
        loop = asyncio.get_running_loop()
        self._timers[path] = loop.call_later(delay, lambda: self._spawn(self.flush(path)))

    def saved(self, path: Path) -> None:
        self._spawn(self.flush(path))

    def closed(self, path: Path) -> None:
        """The editor closed the document: the file on disk is the truth again."""
        self._cancel_timer(path)
        self._dirty.discard(path)
        self._on_reindexed(path)
        located = self._registry.locate(path)
        if located is None or located[0].engine is None:
            return
        engine, rel = located[0].engine, located[1]
        self._spawn(self._locked(path, lambda: engine.close_document(rel)))

    def pending(self, path: Path) -> bool:
        """Whether the buffer of `path` has changes the index has not taken yet."""
        lock = self._locks.get(path)
        return path in self._dirty or (lock is not None and lock.locked())

    def open_rel_paths(self, folder: Folder) -> list[str]:
        """Workspace-relative paths of the folder's open documents (embedding priority)."""
        out = []
        for path in self._buffers.open_paths():
            located = self._registry.locate(path)
            if located is not None and located[0] is folder:
                out.append(located[1])
        return out

    async def push_open(self, folder: Folder) -> None:
        """The folder's engine just opened: index its open buffers before anything else."""
        for path in self._buffers.open_paths():
            located = self._registry.locate(path)
            if located is not None and located[0] is folder:
                self._dirty.add(path)
                await self.flush(path)

    async def flush(self, path: Path) -> None:
        """Send the current buffer of `path` to the index if it changed since the last flush.

        The dirty check runs under the document's lock, so a flush that finds an update of
        the same document in flight (spawned by didOpen, say) waits for it to land.
        """
        self._cancel_timer(path)
        async with self._lock(path):
            if path not in self._dirty:
                return
            located = self._registry.locate(path)
            buffer = self._buffers.text(path)
            if located is None or buffer is None:
                self._dirty.discard(path)
                return
            folder, rel = located
            engine = folder.engine
            if engine is None:
                return  # stays dirty; pushed once the engine is open
            self._dirty.discard(path)
            if len(buffer.text) > folder.settings.index.max_file_bytes:
                _log.info("document_skipped", path=rel, reason="oversize", chars=len(buffer.text))
                return
            await self._guarded(
                path, lambda: engine.update_document(rel, buffer.text, buffer.version)
            )
        self._on_reindexed(path)

    async def flush_all(self) -> None:
        """Flush every dirty document and wait for updates in flight (before reads that
        must see the latest buffers)."""
        busy = {path for path, lock in self._locks.items() if lock.locked()}
        for path in list(self._dirty | busy):
            await self.flush(path)

    def cancel_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _cancel_timer(self, path: Path) -> None:
        timer = self._timers.pop(path, None)
        if timer is not None:
            timer.cancel()

    def _lock(self, path: Path) -> asyncio.Lock:
        return self._locks.setdefault(path, asyncio.Lock())

    async def _locked(self, path: Path, work: Callable[[], object]) -> None:
        async with self._lock(path):
            await self._guarded(path, work)

    async def _guarded(self, path: Path, work: Callable[[], object]) -> None:
        try:
            await self._run(work)
        except Exception as exc:  # a bad buffer must never take the server down
            _log.warning("document_update_failed", path=str(path), error=str(exc))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
