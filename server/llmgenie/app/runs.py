"""The run registry: starts agent runs, follows them, and answers for live and past runs.

It wraps the RunService (runs/service.py), which it builds lazily on a worker thread the
first time a run starts (that import loads CrewAI and litellm; with no model configured
it never happens). Run events become application events; a run that cannot start
(no model, runtime unavailable) is still recorded, reported and ended the same way.
`records()` merges this session's runs with the persisted ones of every open folder.

A run can be delegated to a team server (app/remote.py): its context is analysed and
redacted here, and its events come back the same way; if the server cannot be reached the
user is told and the run goes on locally.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from llmgenie.app.documents import Offload
from llmgenie.app.events import (
    EventSink,
    Notice,
    ProgressBegin,
    ProgressEnd,
    ProgressReport,
    RunCompleted,
    RunEventEmitted,
)
from llmgenie.app.folders import FolderRegistry
from llmgenie.app.remote import RemoteRuns, analyzed_for_delegation
from llmgenie.config import Settings
from llmgenie.contracts.errors import NO_MODEL_MESSAGE, NoModelConfigured
from llmgenie.contracts.ids import FeedbackVerdict
from llmgenie.contracts.runs import RunEvent, RunRecord, RunRequest, RunResult, RunStatus
from llmgenie.observability.logging import get_logger
from llmgenie.observability.tracing import continued

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.runs.service import RunService

_log = get_logger(__name__)
_FAILED_STATES = frozenset({RunStatus.FAILED.value, RunStatus.CANCELLED.value})


class RunFailed(Exception):
    """A run ended without a result; `reason` is a stable machine-readable word."""

    def __init__(self, message: str, reason: str, run_id: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.run_id = run_id


@dataclass
class _Live:
    """What the registry keeps per run started in this session."""

    request: RunRequest
    deliver: bool
    done: asyncio.Future[RunResult]
    progress: str | None = None
    text: list[str] = field(default_factory=list)
    record: RunRecord | None = None
    remote: bool = False


class RunRegistry:
    """Starts runs, forwards their events, and lists them (live and persisted)."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        registry: FolderRegistry,
        run: Offload,
        emit: EventSink,
        progress_handlers: dict[str, Callable[[], None]],
        spawn: Callable[[Awaitable[object]], None],
        no_model_hint: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._no_model_hint = no_model_hint
        self._registry = registry
        self._run = run
        self._emit = emit
        self._handlers = progress_handlers
        self._spawn = spawn
        self._service: RunService | None = None
        self.service_error: str | None = None
        self._live: dict[str, _Live] = {}
        self.remote: RemoteRuns | None = None
        self._told_unavailable = False

    # -- starting and following runs -----------------------------------------------

    def delegates(self, request: RunRequest, asked: bool | None) -> bool:
        """Whether a run goes to the team server: the user's choice for this run, else the
        per-crew setting (`team.crews`); never without a configured team server."""
        if self.remote is None:
            return False
        return asked if asked is not None else request.crew in self._settings().team.crews

    async def start(
        self,
        request: RunRequest,
        *,
        deliver: bool,
        remote: bool | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> str:
        """Start a run in the background; returns its id at once (failures arrive as
        events). With `deliver`, its result is announced as RunCompleted for the editor.
        `trace`: the editor's trace context (W3C headers); the run's spans continue it."""
        loop = asyncio.get_running_loop()
        live = _Live(request=request, deliver=deliver, done=loop.create_future())
        self._live[request.run_id] = live
        if self.delegates(request, remote):
            with continued(trace):
                if await self._start_remote(live):
                    return request.run_id
        if not (request.model or self._settings().llm.model):
            self._fail_locally(request, self._no_model_message(), "no_model_configured")
            return request.run_id
        service = await self._get_service()
        if service is None:
            message = f"The agent runtime is unavailable: {self.service_error}"
            self._fail_locally(request, message, "agents_unavailable")
            return request.run_id
        live.progress = f"llmgenie-run-{request.run_id[:12]}"
        self._handlers[live.progress] = lambda: self._spawn(self.cancel(request.run_id))
        self._emit(ProgressBegin(live.progress, f"llmgenie: {request.crew}", "starting", True))

        def on_event(event: RunEvent) -> None:  # called from the run's worker thread
            loop.call_soon_threadsafe(self._on_event, event)

        try:
            await self._run(lambda: _in_trace(trace, lambda: service.start(request, on_event)))
        except NoModelConfigured:
            self._fail_locally(request, self._no_model_message(), "no_model_configured")
        except Exception as exc:
            self._fail_locally(request, str(exc), "start_failed")
        return request.run_id

    def _no_model_message(self) -> str:
        """How to configure a model, with the running local model on offer if there is one."""
        hint = self._no_model_hint()
        return f"{NO_MODEL_MESSAGE} {hint}." if hint else NO_MODEL_MESSAGE

    async def _start_remote(self, live: _Live) -> bool:
        """Delegate the run; False (and the user told why) when it must run locally."""
        remote = self.remote
        assert remote is not None
        request = live.request
        live.remote = True
        live.progress = f"llmgenie-run-{request.run_id[:12]}"
        self._handlers[live.progress] = lambda: self._spawn(self.cancel(request.run_id))
        title = f"llmgenie: {request.crew} (team server)"
        self._emit(ProgressBegin(live.progress, title, "analysing the context", True))
        try:
            context = await self._run(
                lambda: analyzed_for_delegation(self._registry, self._settings(), request)
            )
            await remote.start(request, context, self._on_event)
            self._told_unavailable = False
        except ConnectionError as exc:
            self._handlers.pop(live.progress, None)
            self._emit(ProgressEnd(live.progress, "running locally"))
            live.remote, live.progress = False, None
            if not self._told_unavailable:  # once a session: the status bar keeps saying it
                self._told_unavailable = True
                self._emit(
                    Notice("warning", f"llmgenie: the team server is unavailable ({exc}); "
                           "delegated runs go on locally until it is back")
                )  # fmt: skip
            return False
        now = time.time()
        live.record = RunRecord(
            run_id=request.run_id,
            request=request,
            status=RunStatus.RUNNING,
            created_at=now,
            updated_at=now,
        )
        return True

    async def wait(self, run_id: str) -> RunResult:
        """The result of a run started in this session, or RunFailed (cancelled, failed)."""
        live = self._live.get(run_id)
        if live is None:
            raise RunFailed(f"unknown run {run_id}", "unknown_run", run_id)
        return await asyncio.shield(live.done)

    def partial_text(self, run_id: str) -> str:
        """The text a run streamed so far (what a cancelled chat shows)."""
        live = self._live.get(run_id)
        return "".join(live.text) if live else ""

    async def cancel(self, run_id: str) -> bool:
        """Cancel a live run (its in-flight model call too); False if it already ended."""
        live = self._live.get(run_id)
        if live is not None and live.done.done():
            return False
        if live is not None and live.remote and self.remote is not None:
            return await self.remote.cancel(run_id)
        service = self._service
        if service is None:
            return False
        cancelled = await self._run(lambda: service.cancel(run_id))
        _log.info("run_cancel_requested", run_id=run_id, cancelled=cancelled)
        return cancelled

    # -- past runs -------------------------------------------------------------------

    async def records(self) -> list[RunRecord]:
        """Runs of the open folders, newest first, earlier sessions' included."""
        records = {rid: live.record for rid, live in self._live.items() if live.record}
        service = await self._get_service()
        if service is not None:
            for folder in self._registry.folders():
                listed = await self._run(functools.partial(service.list, workspace=folder.root))
                records.update((rec.run_id, rec) for rec in listed)
        return sorted(records.values(), key=lambda r: r.created_at, reverse=True)

    async def record(self, run_id: str) -> RunRecord | None:
        """One run's record, live or persisted (None if no open folder has it)."""
        live = self._live.get(run_id)
        if live is not None and live.record is not None:
            return live.record
        service = await self._get_service()
        if service is None:
            return None
        roots = [folder.root for folder in self._registry.folders()]
        return await self._run(lambda: service.find(run_id, roots))

    async def record_edit_applied(self, run_id: str, paths: list[str], applied: bool) -> None:
        """Audit the user applying (or the editor refusing) a run's proposed edits."""
        service = self._service
        if service is None:
            return
        try:
            await self._run(lambda: service.record_edit_applied(run_id, paths, applied))
        except Exception as exc:
            _log.warning("record_edit_applied_failed", run_id=run_id, error=str(exc))

    async def record_feedback(
        self, run_id: str, verdict: FeedbackVerdict, comment: str | None = None
    ) -> bool:
        """A user's verdict on a run's answer, audited and counted where the run ran (the
        team server for a delegated one); False for a run no open folder knows."""
        live = self._live.get(run_id)
        if live is not None and live.remote and self.remote is not None:
            await self.remote.feedback(run_id, verdict, comment)
            return True
        record = await self.record(run_id)
        service = await self._get_service()
        if record is None or service is None:
            return False
        await self._run(lambda: service.record_feedback(record, verdict, comment))
        return True

    async def close(self) -> None:
        """Cancel every live local run, then close the service (shutdown). Delegated runs
        go on on the team server (reopen the editor to see their results)."""
        for run_id, live in list(self._live.items()):
            if not live.done.done() and not live.remote:
                await self.cancel(run_id)
        if self.remote is not None:
            await self.remote.close()
        service = self._service
        if service is not None:
            await self._run(lambda: service.close())

    # -- internals ---------------------------------------------------------------------

    async def _get_service(self) -> RunService | None:
        if self._service is None and self.service_error is None:
            try:
                self._service = await self._run(self._make_service)
            except Exception as exc:
                self.service_error = f"{type(exc).__name__}: {exc}"
                _log.exception("run_service_unavailable")
        return self._service

    def _make_service(self) -> RunService:
        """Worker thread: import and build the RunService (heavy imports happen here)."""
        from llmgenie.runs.service import RunService

        return RunService(self._settings(), engine_factory=self._engine_for)

    def _engine_for(self, root: Path) -> WorkspaceEngine:
        """The open folder's engine for a run's workspace (runs only target open folders)."""
        folder = self._registry.get(root.resolve())
        if folder is None:
            raise ValueError(f"{root} is not an open workspace folder")
        return folder.open_engine()

    def _fail_locally(self, request: RunRequest, message: str, reason: str) -> None:
        """A run that never reached the agents: record it, tell the user, end it."""
        now = time.time()
        self._live[request.run_id].record = RunRecord(
            run_id=request.run_id,
            request=request,
            status=RunStatus.FAILED,
            created_at=now,
            updated_at=now,
            error=message,
        )
        self._emit(Notice("error", message))
        self._on_event(
            RunEvent(run_id=request.run_id, kind="error", message=message, data={"reason": reason})
        )

    def _on_event(self, event: RunEvent) -> None:
        """On the loop: forward, track, and finish the run on its terminal event."""
        self._emit(RunEventEmitted(event))
        live = self._live.get(event.run_id)
        if live is None:
            return
        if event.kind == "delta":
            live.text.append(event.message)
        elif event.kind in ("status", "progress", "tool") and live.progress is not None:
            self._emit(ProgressReport(live.progress, event.message or event.kind))
        status = event.data.get("status")
        if event.kind == "result":
            self._finish(live, RunResult.model_validate(event.data.get("result") or {}), None)
        elif event.kind == "error" or status in _FAILED_STATES:
            reason = str(
                event.data.get("reason") or ("cancelled" if status == "cancelled" else "failed")
            )
            self._finish(live, None, RunFailed(event.message or reason, reason, event.run_id))

    def _finish(self, live: _Live, result: RunResult | None, error: RunFailed | None) -> None:
        if live.done.done():
            return
        if live.remote and live.record is not None:
            status = RunStatus.SUCCEEDED if error is None else RunStatus.FAILED
            if error is not None and error.reason == "cancelled":
                status = RunStatus.CANCELLED
            live.record = live.record.model_copy(
                update={
                    "status": status,
                    "result": result,
                    "error": None if error is None else str(error),
                    "updated_at": time.time(),
                }
            )
        if live.progress is not None:
            self._handlers.pop(live.progress, None)
            self._emit(ProgressEnd(live.progress, "done" if error is None else error.reason))
        if error is not None:
            live.done.set_exception(error)
            live.done.exception()  # mark retrieved: nobody may be waiting
            return
        assert result is not None
        live.done.set_result(result)
        if live.deliver:
            self._emit(RunCompleted(live.request, result))


T = TypeVar("T")


def _in_trace(trace: Mapping[str, str] | None, call: Callable[[], T]) -> T:
    """`call()` with `trace` as the current trace context (an executor thread starts
    without the caller's)."""
    with continued(trace):
        return call()
