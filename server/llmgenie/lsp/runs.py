"""Bridge between agent runs (runs/service.py RunService) and the editor.

A run's events become `llmgenie/runEvent` notifications and a cancellable progress bar;
its result comes back the LSP way: edits as one `workspace/applyEdit`, findings as
`textDocument/publishDiagnostics` (source "llmgenie"), text as runEvent + showMessage.
The RunService (and with it crewai/litellm) is imported lazily on a worker thread the
first time a run starts; without a configured model no import happens at all.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from llmgenie.lsp.workdone import WorkDone
from llmgenie.observability.logging import get_logger
from llmgenie.runs.models import RunEvent, RunRecord, RunRequest, RunResult, RunStatus

if TYPE_CHECKING:
    from llmgenie.lsp.session import Session

_log = get_logger(__name__)

NO_MODEL_MESSAGE = (
    "No model configured: set llmgenie.model (or LLMGENIE_LLM__MODEL) to a litellm model "
    "string such as openai/gpt-4o-mini or ollama/llama3, then retry."
)
_TERMINAL = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}


class RunFailed(Exception):
    """A run ended without a result; `reason` is a stable machine-readable word."""

    def __init__(self, message: str, reason: str, run_id: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.run_id = run_id


@dataclass
class _Tracked:
    """What the bridge keeps per run while it is live."""

    request: RunRequest
    apply_results: bool
    bar: WorkDone | None = None
    done: asyncio.Future[RunResult] | None = None
    text: list[str] = field(default_factory=list)
    record: RunRecord | None = None


class RunBridge:
    """Starts runs, forwards their events to the editor and applies their results."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._service: Any | None = None
        self._service_error: str | None = None
        self._tracked: dict[str, _Tracked] = {}

    # -- public API used by the handlers --------------------------------------------

    async def start(self, request: RunRequest, *, apply_results: bool) -> str:
        """Start a run in the background; returns its id at once (failures arrive as events)."""
        loop = asyncio.get_running_loop()
        tracked = _Tracked(request=request, apply_results=apply_results, done=loop.create_future())
        self._tracked[request.run_id] = tracked
        if not self._session.settings.llm.model:
            self._fail_locally(request, NO_MODEL_MESSAGE, "no_model_configured")
            return request.run_id
        service = await self._get_service()
        if service is None:
            message = f"The agent runtime is unavailable: {self._service_error}"
            self._fail_locally(request, message, "agents_unavailable")
            return request.run_id
        tracked.bar = WorkDone(
            self._session.server,
            f"llmgenie: {request.crew}",
            lambda: self._session.spawn(self.cancel(request.run_id)),
        )
        await tracked.bar.begin("starting")

        def on_event(event: RunEvent) -> None:  # called from the run's worker thread
            loop.call_soon_threadsafe(self._on_event, event)

        try:
            await self._session.in_query_pool(lambda: service.start(request, on_event))
        except Exception as exc:
            reason = (
                "no_model_configured"
                if type(exc).__name__ == "NoModelConfigured"
                else "start_failed"
            )
            message = NO_MODEL_MESSAGE if reason == "no_model_configured" else str(exc)
            self._fail_locally(request, message, reason)
        return request.run_id

    async def wait(self, run_id: str) -> RunResult:
        """The run's result, or RunFailed (cancelled, failed, no model)."""
        tracked = self._tracked.get(run_id)
        if tracked is None or tracked.done is None:
            raise RunFailed(f"unknown run {run_id}", "unknown_run", run_id)
        return await asyncio.shield(tracked.done)

    def partial_text(self, run_id: str) -> str:
        tracked = self._tracked.get(run_id)
        return "".join(tracked.text) if tracked else ""

    async def cancel(self, run_id: str) -> bool:
        """Cancel a live run (stops its in-flight model call); False if it already ended."""
        tracked = self._tracked.get(run_id)
        if tracked is not None and tracked.done is not None and tracked.done.done():
            return False
        if self._service is None:
            return False
        service = self._service
        cancelled = bool(await self._session.in_query_pool(lambda: service.cancel(run_id)))
        _log.info("run_cancel_requested", run_id=run_id, cancelled=cancelled)
        return cancelled

    async def records(self) -> list[RunRecord]:
        """Runs of the open folders, newest first, including earlier sessions' (persisted)."""
        records: dict[str, RunRecord] = {
            rid: t.record for rid, t in self._tracked.items() if t.record is not None
        }
        service = await self._get_service()
        if service is not None:
            for folder in self._session.registry.folders():
                listed = await self._session.in_query_pool(
                    functools.partial(service.list, workspace=folder.root)
                )
                records.update((rec.run_id, rec) for rec in listed)
        return sorted(records.values(), key=lambda r: r.created_at, reverse=True)

    async def record(self, run_id: str) -> RunRecord | None:
        tracked = self._tracked.get(run_id)
        if tracked is not None and tracked.record is not None:
            return tracked.record
        service = await self._get_service()
        if service is None:
            return None
        rec = await self._session.in_query_pool(functools.partial(service.get, run_id))
        if rec is None:
            # Not seen this session: open every folder's run store, then look again.
            for folder in self._session.registry.folders():
                await self._session.in_query_pool(
                    functools.partial(service.list, workspace=folder.root, limit=1)
                )
            rec = await self._session.in_query_pool(functools.partial(service.get, run_id))
        return rec  # type: ignore[no-any-return]

    async def close(self) -> None:
        """Cancel every live run (shutdown)."""
        for run_id, tracked in list(self._tracked.items()):
            if tracked.done is not None and not tracked.done.done():
                await self.cancel(run_id)
        if self._service is not None and hasattr(self._service, "close"):
            service = self._service
            await self._session.in_query_pool(service.close)

    # -- internals ---------------------------------------------------------------------

    async def _get_service(self) -> Any | None:
        if self._service is None and self._service_error is None:
            try:
                self._service = await self._session.in_query_pool(self._session.make_run_service)
            except Exception as exc:
                self._service_error = f"{type(exc).__name__}: {exc}"
                _log.exception("run_service_unavailable")
        return self._service

    def _fail_locally(self, request: RunRequest, message: str, reason: str) -> None:
        """A run that never reached the agents: record it, tell the user, end it."""
        now = time.time()
        tracked = self._tracked[request.run_id]
        tracked.record = RunRecord(
            run_id=request.run_id,
            request=request,
            status=RunStatus.FAILED,
            created_at=now,
            updated_at=now,
            error=message,
        )
        self._session.show_message(message, types.MessageType.Error)
        self._on_event(
            RunEvent(run_id=request.run_id, kind="error", message=message, data={"reason": reason})
        )

    def _on_event(self, event: RunEvent) -> None:
        """Runs on the loop: forward, track, and finish the run on its terminal event."""
        self._session.notify(
            "llmgenie/runEvent",
            {
                "runId": event.run_id,
                "kind": event.kind,
                "message": event.message,
                "data": event.data,
            },
        )
        tracked = self._tracked.get(event.run_id)
        if tracked is None:
            return
        if event.kind == "delta":
            tracked.text.append(event.message)
        elif event.kind in ("status", "progress", "tool") and tracked.bar is not None:
            tracked.bar.report(event.message or event.kind)
        status = event.data.get("status")
        if event.kind == "result":
            result = RunResult.model_validate(event.data.get("result") or {})
            self._finish(tracked, result, None)
        elif event.kind == "error" or (
            status in {s.value for s in _TERMINAL} and status != "succeeded"
        ):
            reason = str(
                event.data.get("reason") or ("cancelled" if status == "cancelled" else "failed")
            )
            self._finish(tracked, None, RunFailed(event.message or reason, reason, event.run_id))

    def _finish(self, tracked: _Tracked, result: RunResult | None, error: RunFailed | None) -> None:
        if tracked.done is None or tracked.done.done():
            return
        if tracked.bar is not None:
            tracked.bar.end("done" if error is None else error.reason)
        if error is not None:
            tracked.done.set_exception(error)
            tracked.done.exception()  # mark retrieved: nobody may be waiting
            return
        assert result is not None
        tracked.done.set_result(result)
        if tracked.apply_results:
            self._session.spawn(self._session.results.apply(tracked.request, result))
