"""Application: everything one client session needs, behind one transport-agnostic object.

The language server, the CLI and the team server adapt it: they convert their requests
into calls here and the events it emits (app/events.py) into their own messages. It owns
the open folders and their engines, background indexing, buffer sync, the run registry,
the symbol cache, status and health. Blocking service work runs on two thread pools: an
interactive one for requests and a single-thread one for indexing, so a request never
waits behind an index pass.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmgenie import __version__
from llmgenie.app.documents import Buffers, DocumentSync, NoBuffers
from llmgenie.app.events import AppEvent, EventSink, Notice, StatusChanged
from llmgenie.app.folders import Folder, FolderRegistry
from llmgenie.app.indexing import IndexScheduler
from llmgenie.app.model_offer import LocalModelOffer, offer_local_model
from llmgenie.app.remote import ConnectionState, RemoteRuns
from llmgenie.app.runs import RunRegistry
from llmgenie.config import Settings
from llmgenie.contracts.errors import InvalidRequest, RequestFailed
from llmgenie.contracts.index import IndexHealth
from llmgenie.contracts.search import SearchResult
from llmgenie.contracts.status import (
    EmbeddingsStatus,
    HealthReport,
    ModelStatus,
    RemoteStatus,
    StatusSnapshot,
)
from llmgenie.contracts.symbols import PositionContext, Symbol
from llmgenie.observability.logging import get_logger
from llmgenie.workspace.traits import workspace_traits

if TYPE_CHECKING:
    from llmgenie.agents.knowledge import GuidanceHit
    from llmgenie.engine import WorkspaceEngine

_log = get_logger(__name__)
T = TypeVar("T")

SettingsFactory = Callable[[Path | None], tuple[Settings, list[str]]]
"""(folder root or None) -> (settings, problems worth telling the user)."""
AGENT_WARMUP_DELAY_S = 5.0
INTERACTIVE_THREADS = 3


class Application:
    """One client session over a set of workspace folders."""

    def __init__(
        self,
        settings_for: SettingsFactory,
        emit: EventSink,
        buffers: Buffers | None = None,
    ) -> None:
        self._settings_for = settings_for
        self._sink = emit
        self.settings = Settings.model_construct()
        self.problems: list[str] = []
        self.registry = FolderRegistry()
        self.query_pool = ThreadPoolExecutor(INTERACTIVE_THREADS, "llmgenie-query")
        self.index_pool = ThreadPoolExecutor(1, "llmgenie-index")
        self.progress_handlers: dict[str, Callable[[], None]] = {}
        self.documents = DocumentSync(
            self.registry, buffers or NoBuffers(), self.in_pool, self._reindexed
        )
        self.indexing = IndexScheduler(
            self.registry,
            self.documents,
            self.index_pool,
            self.emit,
            self.publish_status,
            lambda: self._reindexed(None),
            self.progress_handlers,
        )
        self.runs = RunRegistry(
            lambda: self.settings,
            self.registry,
            self.in_pool,
            self.emit,
            self.progress_handlers,
            self.spawn,
            lambda: self.local_offer.message if self.local_offer else None,
        )
        self.closed = False
        # path -> the indexed symbols of that file; dropped whenever it is re-indexed, so
        # code actions (asked on every cursor move) rarely leave the event loop.
        self._symbols: dict[Path, list[Symbol]] = {}
        self._generation = 0
        self._last_status: StatusSnapshot | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        # With no model configured: the running Ollama found at start (None: none found).
        self.local_offer: LocalModelOffer | None = None

    # -- events and plumbing --------------------------------------------------------------

    def emit(self, event: AppEvent) -> None:
        """Deliver an event to the adapter (on the loop); a failing adapter is logged."""
        try:
            self._sink(event)
        except Exception as exc:
            _log.error("event_delivery_failed", event=type(event).__name__, error=repr(exc))

    async def in_pool(self, fn: Callable[[], T]) -> T:
        """Run blocking service code off the event loop, on the interactive pool."""
        return await asyncio.get_running_loop().run_in_executor(self.query_pool, fn)

    def spawn(self, coro: Awaitable[object]) -> None:
        """Run a coroutine in the background; its failure is logged, never lost."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("background_task_failed", error=repr(task.exception()))

    def cancel_progress(self, token: str) -> bool:
        """The user cancelled a cancellable progress (ProgressBegin.cancellable)."""
        handler = self.progress_handlers.pop(token, None)
        _log.info("progress_cancelled", token=token, known=handler is not None)
        if handler is not None:
            handler()
        return handler is not None

    # -- folders ----------------------------------------------------------------------------

    def open(self, paths: list[Path]) -> None:
        """Register the session's folders (cheap: no engine is opened). The session's
        settings are the first folder's, or the user's own when no folder is open."""
        for path in paths:
            self.add_folder(path)
        if self.registry.primary() is None:
            self.settings, problems = self._settings_for(None)
            self.problems += problems

    def add_folder(self, path: Path) -> Folder | None:
        """Register one folder; None (and a problem) if it is not a directory."""
        if not path.is_dir():
            self.problems.append(f"workspace folder {path} is not a local directory; not indexed")
            return None
        root = path.resolve()
        settings, problems = self._settings_for(root)
        self.problems += problems
        folder = Folder(root=root, settings=settings, traits=workspace_traits(root))
        self.registry.add(folder)
        if self.registry.primary() is folder:
            self.settings = settings
        return folder

    def start(self, warm_up_agents: bool = True) -> None:
        """After the handshake: report problems, index every folder, warm the agents up,
        connect to the team server."""
        self.publish_status()
        for problem in self.problems:
            self.emit(Notice("warning", f"llmgenie: {problem}"))
        self.indexing.schedule(self.registry.folders())
        if warm_up_agents and self.settings.llm.model:
            warm_up_agents_later()
        if not self.settings.llm.model:
            self.spawn(self.look_for_local_model())
        if self.runs.remote is not None:
            self.spawn(self.runs.remote.connect())

    async def look_for_local_model(self) -> LocalModelOffer | None:
        """Look for a running Ollama to offer while no model is configured; the status
        (and health) name it once found."""
        self.local_offer = await self.in_pool(offer_local_model)
        self.publish_status()
        return self.local_offer

    def use_team_server(self, remote: RemoteRuns) -> None:
        """Runs may be delegated to this team server (see RunRegistry.delegates)."""
        self.runs.remote = remote

    def remote_state_changed(self, state: ConnectionState, reason: str | None) -> None:
        """The team server connection changed; signing out is worth telling at once."""
        if state == "signed_out":
            self.emit(
                Notice(
                    "error",
                    "llmgenie: the team server refused the sign-in"
                    + (f" ({reason})" if reason else "")
                    + ". Sign in again to delegate runs; they run locally meanwhile.",
                )
            )
        self.publish_status()

    async def change_folders(self, added: list[Path], removed: list[Path]) -> None:
        for path in removed:
            folder = self.registry.remove(path)
            if folder is not None:
                self.indexing.forget(folder)
                await asyncio.get_running_loop().run_in_executor(
                    self.index_pool, folder.close_engine
                )
        new = [f for f in (self.add_folder(path) for path in added) if f is not None]
        if new:
            self.indexing.schedule(new)
        self.publish_status()

    async def files_changed(self, paths: list[Path]) -> None:
        """Files changed on disk (not through open buffers): re-read them, drop deleted ones."""
        by_folder: dict[Path, tuple[Folder, list[str]]] = {}
        for path in paths:
            located = self.registry.locate(path)
            if located is None:
                continue
            folder, rel = located
            if rel.startswith(".git/") or "/.git/" in rel:
                continue
            by_folder.setdefault(folder.root, (folder, []))[1].append(rel)
        self._reindexed(None)
        for folder, rels in by_folder.values():
            folder.traits = await self.in_pool(functools.partial(workspace_traits, folder.root))
            engine = folder.engine
            if engine is None:
                continue  # the pending index pass will see the files
            try:
                await self.in_pool(functools.partial(engine.refresh_paths, rels))
            except Exception as exc:
                _log.warning("refresh_failed", root=str(folder.root), error=str(exc))

    def locate(self, path: Path) -> tuple[Folder, str]:
        """(folder, relative path) of a file inside an open folder, or InvalidRequest."""
        located = self.registry.locate(path)
        if located is None:
            raise InvalidRequest(f"{path} is not inside an open workspace folder")
        return located

    async def engine(self, folder: Folder | None) -> WorkspaceEngine:
        """The folder's engine, opened now if background indexing has not got to it yet."""
        if folder is None:
            raise RequestFailed("No workspace folder is open", "no_workspace")
        if folder.engine is not None:
            return folder.engine
        try:
            engine = await self.in_pool(folder.open_engine)
        except Exception as exc:
            raise RequestFailed(
                f"The index of {folder.name} cannot be opened: {exc}", "index_unavailable"
            ) from exc
        await self.documents.push_open(folder)
        return engine

    # -- queries ----------------------------------------------------------------------------

    async def search(
        self, query: str, k: int = 10, focus: Path | None = None
    ) -> tuple[Folder, SearchResult]:
        """Hybrid search in the focus file's folder (else the first folder), seeing every
        buffer the user typed into."""
        folder, rel = self.locate(focus) if focus is not None else (self.registry.primary(), None)
        engine = await self.engine(folder)
        assert folder is not None
        await self.documents.flush_all()
        result = await self.in_pool(lambda: engine.search(query, k=k, focus=rel))
        return folder, result

    async def knowledge(
        self, query: str, k: int = 5, focus: Path | None = None
    ) -> tuple[Folder, list[GuidanceHit]]:
        """The specialists' curated guidance, then the focus folder's own docs, for `query`
        (what the agents' search_knowledge tool sees; the chat's @knowledge mention)."""
        folder, _ = self.locate(focus) if focus is not None else (self.registry.primary(), None)
        engine = await self.engine(folder)
        assert folder is not None
        await self.documents.flush_all()
        from llmgenie.agents.knowledge import KnowledgeBase  # indexes knowledge/ on first use

        base = KnowledgeBase(engine)
        return folder, await self.in_pool(lambda: base.search(query, k=k))

    async def repo_map(self, focus: Path | None = None, tokens: int = 1024) -> str:
        folder, rel = self.locate(focus) if focus is not None else (self.registry.primary(), None)
        engine = await self.engine(folder)
        await self.documents.flush_all()
        return await self.in_pool(lambda: engine.repo_map(focus=rel, tokens=tokens))

    async def context(self, path: Path, line: int) -> PositionContext:
        """What is around a 1-based line: enclosing symbol, related code, references."""
        folder, rel = self.locate(path)
        engine = await self.engine(folder)
        await self.documents.flush(path)
        return await self.in_pool(lambda: engine.analyze_position(rel, line))

    async def symbols(self, path: Path) -> list[Symbol]:
        """The indexed symbols of a file (cached until it is re-indexed; [] if unknown)."""
        cached = self._symbols.get(path)
        if cached is not None:
            return cached
        located = self.registry.locate(path)
        if located is None:
            return []
        if self.documents.pending(path):
            # A document just opened (or typed into) whose buffer the index has not taken
            # yet: parse it now, so its symbol actions are there on the first request.
            try:
                await self.engine(located[0])
            except RequestFailed:
                return []
            await self.documents.flush(path)
        if located[0].engine is None:
            return []
        engine, rel = located[0].engine, located[1]
        generation = self._generation
        try:
            symbols = await self.in_pool(lambda: engine.symbols(rel))
        except Exception as exc:  # not indexed yet, oversize, deleted: act without
            _log.debug("symbols_unavailable", path=rel, error=str(exc))
            return []
        if generation == self._generation:  # nothing re-indexed meanwhile
            self._symbols[path] = symbols
        return symbols

    def _reindexed(self, path: Path | None) -> None:
        """A file (or, with None, anything) was re-indexed: forget cached symbols."""
        self._generation += 1
        if path is None:
            self._symbols.clear()
            self.publish_status()
        else:
            self._symbols.pop(path, None)

    # -- status -----------------------------------------------------------------------------

    def model_setup(self) -> dict[str, Any]:
        """How to get a model when none is configured: a running Ollama's model if there
        is one, and where the setting goes (the 'Configure a model…' action)."""
        llm = self.settings.llm
        offer = self.local_offer
        suggested = offer.model if offer is not None and not llm.model else None
        ways = (
            "set llmgenie.model in the editor (with its key: 'llmgenie: Set API Key'), "
            "llm.model in ~/.config/llmgenie/config.toml, or LLMGENIE_LLM__MODEL "
            "(e.g. openai/gpt-4o-mini with OPENAI_API_KEY)"
        )
        if llm.model:
            message = f"the model is {llm.model}"
        elif suggested:
            message = f"No model configured. {offer.message if offer else ''} Or {ways}."
        else:
            message = f"No model configured: {ways}."
        return {"configured": bool(llm.model), "suggested": suggested, "message": message}

    def degraded(self) -> list[str]:
        """Human-readable reasons llmgenie works with less than everything."""
        reasons = [f"{f.name}: {f.open_error}" for f in self.registry.folders() if f.open_error]
        if not self.settings.llm.model:
            reason = "no model configured: agent actions are unavailable"
            if self.local_offer is not None:
                reason += f" ({self.local_offer.message})"
            reasons.append(reason)
        if self.indexing.last_error:
            reasons.append(f"indexing failed: {self.indexing.last_error}")
        if self.runs.service_error:
            reasons.append(f"agent runtime unavailable: {self.runs.service_error}")
        return reasons

    def status(self) -> StatusSnapshot:
        llm = self.settings.llm
        return StatusSnapshot(
            indexing=self.indexing.status,
            model=ModelStatus(
                configured=bool(llm.model),
                model=llm.model or None,
                fallbacks=list(llm.fallbacks),
                suggested=(self.local_offer.model if self.local_offer and not llm.model else None),
            ),
            degraded=self.degraded(),
            remote=self._remote_status(),
        )

    def _remote_status(self) -> RemoteStatus:
        remote = self.runs.remote
        if remote is None:
            return RemoteStatus(url=self.settings.team.url)
        return RemoteStatus(
            connected=remote.state == "connected",
            url=self.settings.team.url,
            state=remote.state,
            reason=getattr(remote, "reason", None),
        )

    def publish_status(self) -> None:
        """Emit StatusChanged if anything in the status changed since the last one."""
        snap = self.status()
        if snap != self._last_status:
            self._last_status = snap
            self.emit(StatusChanged(snap))

    async def health(self) -> HealthReport:
        """The status plus each open folder's index health (cheap: no tree walk)."""
        healths: list[IndexHealth] = []
        for folder in self.registry.folders():
            engine = folder.engine
            if engine is not None:
                try:
                    healths.append(await self.in_pool(engine.health))
                except Exception as exc:
                    _log.warning("health_failed", root=str(folder.root), error=str(exc))
        primary = healths[0] if healths else None
        embeddings = EmbeddingsStatus()
        if primary is not None:
            embeddings = EmbeddingsStatus(
                provider=primary.embedding_provider, status=primary.embedding_status
            )
        return HealthReport(
            **self.status().model_dump(),
            index=primary,
            folders=healths,
            embeddings=embeddings,
            version=__version__,
        )

    # -- shutdown ---------------------------------------------------------------------------

    async def close(self) -> None:
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
        """Synchronous last resort when the client vanished without shutting down."""
        self.closed = True
        self.indexing.pause()
        for folder in self.registry.folders():
            try:
                folder.close_engine()
            except Exception as exc:
                _log.warning("engine_close_failed", root=str(folder.root), error=str(exc))
        self.query_pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=True, cancel_futures=True)


def warm_up_agents_later(delay_s: float = AGENT_WARMUP_DELAY_S) -> None:
    """Import litellm and CrewAI on a daemon thread after a pause, so that the first agent run
    does not wait 10-30 s for them; the pause leaves the first seconds to the editor."""

    def warm_up() -> None:
        time.sleep(delay_s)
        try:
            from llmgenie.agents.crewai_setup import preload
            from llmgenie.litellm_setup import load_litellm

            load_litellm()
            preload()
            _log.info("agents_warmed_up")
        except Exception as exc:  # a broken optional import must not take the server down
            _log.warning("agents_warm_up_failed", error=str(exc))

    threading.Thread(target=warm_up, name="llmgenie-agent-warmup", daemon=True).start()
