"""Per-connection state of the language server and the plumbing the handlers share.

The handlers stay one-liners over this object: it owns the workspace folders and their
engines, the background indexing, the buffer sync, the run bridge, the worker pools and
the `llmgenie/status` notification (sent whenever its content changes).
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types

from llmgenie import __version__
from llmgenie.config import Settings
from llmgenie.context.models import Symbol
from llmgenie.lsp.documents import DocumentSync
from llmgenie.lsp.edits import FileText
from llmgenie.lsp.indexing import IndexingController
from llmgenie.lsp.options import InitOptions, parse_init_options, session_settings
from llmgenie.lsp.results import ResultDelivery
from llmgenie.lsp.runs import RunBridge
from llmgenie.lsp.workspaces import Folder, WorkspaceRegistry, uri_to_path, workspace_traits
from llmgenie.observability.logging import get_logger
from llmgenie.runs.models import RunRequest

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.lsp.server import LlmgenieServer

_log = get_logger(__name__)
T = TypeVar("T")


class Session:
    """Everything one editor connection needs; created with the server, filled at initialize."""

    def __init__(self, server: LlmgenieServer) -> None:
        self.server = server
        self.options = InitOptions()
        self.settings: Settings = Settings.model_construct()
        self.registry = WorkspaceRegistry()
        self.indexing = IndexingController(self)
        self.documents = DocumentSync(self)
        self.runs = RunBridge(self)
        self.results = ResultDelivery(self)
        self.query_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="llmgenie-query")
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmgenie-index")
        self.progress_cancel_handlers: dict[str, Callable[[], None]] = {}
        # uri -> the indexed symbols of that file; dropped whenever the file is re-indexed,
        # so code actions (asked on every cursor move) rarely leave the event loop.
        self.symbol_cache: dict[str, list[Symbol]] = {}
        self.index_generation = 0
        self.problems: list[str] = []
        self.closed = False
        self._last_status: dict[str, Any] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def invalidate_symbols(self, uri: str | None = None) -> None:
        """A file (or, with None, anything) was re-indexed: forget cached symbols."""
        self.index_generation += 1
        if uri is None:
            self.symbol_cache.clear()
        else:
            self.symbol_cache.pop(uri, None)

    # -- lifecycle -------------------------------------------------------------------

    def initialize(self, params: types.InitializeParams) -> None:
        """Read options and folders (cheap: no engine is opened here)."""
        self.options, self.problems = parse_init_options(params.initialization_options)
        folders = list(params.workspace_folders or [])
        if not folders and params.root_uri:
            folders = [types.WorkspaceFolder(uri=params.root_uri, name="root")]
        for wf in folders:
            self._add_folder(wf.uri)
        primary = self.registry.primary()
        if primary is not None:
            self.settings = primary.settings
        else:
            self.settings, more = session_settings(None, self.options)
            self.problems += more

    async def initialized(self) -> None:
        """After the handshake: watch files, report problems, start background indexing."""
        self.publish_status()
        for problem in self.problems:
            self.show_message(f"llmgenie: {problem}", types.MessageType.Warning)
        self.indexing.schedule(self.registry.folders())
        await self._register_file_watcher()
        if self.settings.llm.model:
            warm_up_agents_later()

    async def shutdown(self) -> None:
        """Stop background work and close every engine so the index on disk is consistent."""
        if self.closed:
            return
        self.closed = True
        self.documents.cancel_all()
        await self.indexing.stop()
        try:
            await asyncio.wait_for(self.runs.close(), timeout=10)
        except Exception as exc:
            _log.warning("runs_close_failed", error=str(exc))
        loop = asyncio.get_running_loop()
        for folder in self.registry.folders():
            try:
                await loop.run_in_executor(self.index_pool, folder.close_engine)
            except Exception as exc:
                _log.warning("engine_close_failed", root=str(folder.root), error=str(exc))
        _log.info("session_closed")

    def close_now(self) -> None:
        """Synchronous last resort when the connection dropped without shutdown."""
        self.indexing.pause()
        for folder in self.registry.folders():
            try:
                folder.close_engine()
            except Exception as exc:
                _log.warning("engine_close_failed", root=str(folder.root), error=str(exc))
        self.query_pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=True, cancel_futures=True)

    # -- folders ---------------------------------------------------------------------

    def _add_folder(self, uri: str) -> Folder | None:
        path = uri_to_path(uri)
        if path is None or not path.is_dir():
            self.problems.append(f"workspace folder {uri} is not a local directory; not indexed")
            return None
        root = path.resolve()
        settings, problems = session_settings(root, self.options)
        self.problems += problems
        folder = Folder(uri=uri, root=root, settings=settings, traits=workspace_traits(root))
        self.registry.add(folder)
        return folder

    async def change_folders(self, added: list[str], removed: list[str]) -> None:
        for uri in removed:
            folder = self.registry.remove(uri)
            if folder is not None:
                self.indexing.forget(folder)
                await asyncio.get_running_loop().run_in_executor(
                    self.index_pool, folder.close_engine
                )
        new = [f for f in (self._add_folder(uri) for uri in added) if f is not None]
        if new:
            self.indexing.schedule(new)
        self.publish_status()

    async def files_changed(self, changes: list[tuple[str, types.FileChangeType]]) -> None:
        """Watched-file events: re-read changed files (open buffers win), drop deleted ones."""
        by_folder: dict[Path, tuple[Folder, list[str]]] = {}
        open_docs = self.server.workspace.text_documents
        for uri, _kind in changes:
            located = self.registry.locate(uri)
            if located is None or uri in open_docs:
                continue
            folder, rel = located
            if rel.startswith(".git/") or "/.git/" in rel:
                continue
            by_folder.setdefault(folder.root, (folder, []))[1].append(rel)
        self.invalidate_symbols()
        for folder, paths in by_folder.values():
            folder.traits = workspace_traits(folder.root)
            engine = folder.engine
            if engine is None:
                continue  # the pending index pass will see the files
            try:
                await self.in_query_pool(functools.partial(engine.refresh_paths, paths))
            except Exception as exc:
                _log.warning("refresh_failed", root=str(folder.root), error=str(exc))

    def rebuild_index(self, folder: Folder) -> None:
        """Worker thread: drop a folder's index so the next open starts from scratch.

        Holds the folder's lock throughout, so no request can reopen the index mid-delete.
        """
        with folder.lock:
            engine = folder.open_engine()
            directory = Path(engine.layout.directory)
            folder.close_engine()
            shutil.rmtree(directory, ignore_errors=True)
        _log.info("index_dropped", root=str(folder.root), directory=str(directory))

    def folder_for_request(self, request: RunRequest) -> Folder | None:
        root = Path(request.workspace)
        return next((f for f in self.registry.folders() if f.root == root), None)

    def current_text(self, folder: Folder, rel_path: str) -> FileText:
        """Worker thread: the editor's buffer if open, else the file on disk (None if absent)."""
        uri = self.registry.uri_for(folder, rel_path)
        doc = self.server.workspace.text_documents.get(uri)
        if doc is not None:
            return FileText(uri=uri, text=doc.source, version=doc.version)
        path = folder.root / rel_path
        if not path.resolve().is_relative_to(folder.root) or not path.is_file():
            return FileText(uri=uri, text=None)
        return FileText(uri=uri, text=path.read_text(encoding="utf-8", errors="replace"))

    # -- runs ------------------------------------------------------------------------

    def make_run_service(self) -> Any:
        """Worker thread: import and build the agent RunService (heavy imports happen here)."""
        from llmgenie.runs.service import RunService

        return RunService(self.settings, engine_factory=self._engine_for_root)

    def _engine_for_root(self, root: Path) -> WorkspaceEngine:
        """The open folder's engine for a run's workspace (runs only target open folders)."""
        resolved = root.resolve()
        for folder in self.registry.folders():
            if folder.root == resolved:
                return folder.open_engine()
        raise ValueError(f"{root} is not an open workspace folder")

    async def record_edit_applied(self, run_id: str, paths: list[str], applied: bool) -> None:
        service = getattr(self.runs, "_service", None)
        if service is not None and hasattr(service, "record_edit_applied"):
            try:
                await self.in_query_pool(
                    lambda: service.record_edit_applied(run_id, paths, applied)
                )
            except Exception as exc:
                _log.warning("record_edit_applied_failed", run_id=run_id, error=str(exc))

    # -- plumbing --------------------------------------------------------------------

    async def in_query_pool(self, fn: Callable[[], T]) -> T:
        """Run blocking service code off the event loop, on the interactive pool."""
        return await asyncio.get_running_loop().run_in_executor(self.query_pool, fn)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("background_task_failed", error=repr(task.exception()))

    def notify(self, method: str, params: Any) -> None:
        if not self.closed or method == "llmgenie/status":
            self.server.protocol.notify(method, params)

    def show_message(self, message: str, kind: types.MessageType) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log_message(self, message: str) -> None:
        self.server.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=message)
        )

    def notify_user_error(self, message: str) -> None:
        self.show_message(message, types.MessageType.Error)
        self.publish_status()

    def degraded(self) -> list[str]:
        """Human-readable reasons llmgenie works with less than everything."""
        reasons = [
            f"{f.root.name}: {f.open_error}" for f in self.registry.folders() if f.open_error
        ]
        if not self.settings.llm.model:
            reasons.append("no model configured: agent actions are unavailable")
        if self.indexing.last_error:
            reasons.append(f"indexing failed: {self.indexing.last_error}")
        if self.runs._service_error:
            reasons.append(f"agent runtime unavailable: {self.runs._service_error}")
        return reasons

    def model_snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = {"configured": bool(self.settings.llm.model)}
        if self.settings.llm.model:
            snap["model"] = self.settings.llm.model
        return snap

    def status_snapshot(self) -> dict[str, Any]:
        remote: dict[str, Any] = {"connected": False}
        if self.settings.team.url:
            remote["url"] = self.settings.team.url
        return {
            "indexing": self.indexing.snapshot(),
            "model": self.model_snapshot(),
            "degraded": self.degraded(),
            "remote": remote,
        }

    def publish_status(self) -> None:
        """Send llmgenie/status if anything in it changed since the last one."""
        snap = self.status_snapshot()
        if snap != self._last_status:
            self._last_status = snap
            self.notify("llmgenie/status", snap)

    async def health(self) -> dict[str, Any]:
        """The llmgenie/health result."""
        healths = []
        for folder in self.registry.folders():
            engine = folder.engine
            if engine is not None:
                try:
                    healths.append(
                        (await self.in_query_pool(engine.health)).model_dump(mode="json")
                    )
                except Exception as exc:
                    _log.warning("health_failed", root=str(folder.root), error=str(exc))
        primary = healths[0] if healths else None
        embeddings: dict[str, Any] = {"status": "not indexed"}
        if primary is not None:
            embeddings = {
                "provider": primary.get("embedding_provider"),
                "status": primary.get("embedding_status", ""),
            }
        return {
            "index": primary,
            "folders": healths,
            "indexing": self.indexing.snapshot(),
            "model": {**self.model_snapshot(), "fallbacks": list(self.settings.llm.fallbacks)},
            "embeddings": embeddings,
            "degraded": self.degraded(),
            "version": __version__,
        }

    async def _register_file_watcher(self) -> None:
        caps = self.server.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps else None
        if watched is None or not watched.dynamic_registration:
            return
        registration = types.Registration(
            id="llmgenie-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
            ),
        )
        try:
            await self.server.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as exc:
            _log.warning("watcher_registration_failed", error=str(exc))


AGENT_WARMUP_DELAY_S = 5.0


def warm_up_agents_later(delay_s: float = AGENT_WARMUP_DELAY_S) -> None:
    """Import litellm and CrewAI on a daemon thread after a pause, so that the first agent run
    does not wait 10-30 s for them; the pause leaves the first seconds to the editor."""

    def warm_up() -> None:
        time.sleep(delay_s)
        try:
            from llmgenie.agents.crewai_setup import preload
            from llmgenie.llm.litellm_setup import load_litellm

            load_litellm()
            preload()
            _log.info("agents_warmed_up")
        except Exception as exc:  # a broken optional import must not take the server down
            _log.warning("agents_warm_up_failed", error=str(exc))

    threading.Thread(target=warm_up, name="llmgenie-agent-warmup", daemon=True).start()
