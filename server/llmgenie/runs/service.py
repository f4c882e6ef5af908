"""RunService: starts, tracks, cancels and records agent runs (the LSP, the CLI and the
team server all call this).

API (thread-safe):

    service = RunService(settings, engine)             # or engine_factory=lambda root: ...
    handle = service.start(request, on_event)          # returns at once; runs in a thread
    handle.run_id; handle.wait(timeout) -> RunRecord   # block until it ends
    service.cancel(run_id) -> bool                     # stops the in-flight model call too
    service.get(run_id) -> RunRecord | None            # persisted: survives restarts
    service.list(workspace=None, limit=50) -> list[RunRecord]   # most recent first
    service.record_edit_applied(run_id, paths, applied=True)   # audit: user applied edits
    service.verify_audit(workspace) -> ChainReport
    service.close()                                    # cancels active runs, closes stores

`start` raises NoModelConfigured at once (no record) when no model is configured, and
ValueError for a workspace that is not a directory. Everything else that goes wrong ends
the run as FAILED (or CANCELLED) with a readable `error`, audited as `run_finished`.
`on_event` receives RunEvents: status per wrapper step, "delta" text while the model
streams, "tool" calls, and finally one "result" (data.result = RunResult JSON) or "error".
Run records and the audit log live in the workspace's agent store (store/), in the user's
data directory, apart from the disposable index (llmgenie.locations).
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llmgenie.config import Settings
from llmgenie.contracts.errors import (
    BudgetExceeded,
    ModelCallError,
    NoModelConfigured,
    PathEscapeError,
    PermissionDenied,
)
from llmgenie.contracts.ids import FeedbackVerdict
from llmgenie.contracts.progress import Cancelled, CancelToken
from llmgenie.contracts.runs import RunEvent, RunRecord, RunRequest, RunResult, RunStatus
from llmgenie.observability.logging import get_logger, logging_run
from llmgenie.observability.metrics import (
    ACTIVE_RUNS,
    AGENT_RESPONSE_TIME,
    AGENT_TASKS,
    ANSWER_FEEDBACK,
)
from llmgenie.observability.tracing import carrier, continued, current_ids, tracer
from llmgenie.store.audit import ChainReport
from llmgenie.store.store import AgentStore
from llmgenie.wrapper.environment import make_redactor, require_model
from llmgenie.wrapper.execution import Executor
from llmgenie.wrapper.pipeline import SmartWrapper

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

log = get_logger(__name__)

EventCallback = Callable[[RunEvent], None]
# The crews' own errors carry messages written for the user (llmgenie.agents.crews); they
# are matched by name so this module does not import CrewAI.
_CREW_ERRORS = frozenset({"CrewRunFailed", "UnknownCrew"})
EngineFactory = Callable[[Path], "WorkspaceEngine"]
# How long a cancelled run's thread has to stop by itself before the run is recorded as
# cancelled without it (cancel means `cancelled` within seconds, whatever the thread does).
CANCEL_GRACE_S = 2.0


@dataclass
class RunHandle:
    """A started run: its id, a way to wait for it, and a way to cancel it."""

    run_id: str
    request: RunRequest
    cancel_token: CancelToken
    _service: RunService
    _done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    # Guards the run's end: whoever records it first (the run's thread, or the cancel
    # watchdog when that thread is stuck) wins, and no event goes out after it.
    _end_lock: threading.RLock = field(default_factory=threading.RLock)
    _ended: bool = False
    _abandon: Callable[[], None] | None = None

    def wait(self, timeout: float | None = None) -> RunRecord:
        """The final record (TimeoutError if the run is still going after `timeout`)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"run {self.run_id} still running after {timeout}s")
        record = self._service.get(self.run_id)
        assert record is not None
        return record

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> bool:
        return self._service.cancel(self.run_id)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, Cancelled):
        return "cancelled by the user"
    if isinstance(exc, BudgetExceeded):
        return f"budget exceeded: {exc}"
    if isinstance(exc, ModelCallError):
        return f"model call failed: {exc}"
    if isinstance(exc, PathEscapeError):
        return f"refused: {exc}"
    if isinstance(exc, PermissionDenied):
        return f"permission denied: {exc}"
    if isinstance(exc, NoModelConfigured | FileNotFoundError | ValueError):
        return str(exc)
    if type(exc).__name__ in _CREW_ERRORS:
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


class RunService:
    """Agent runs for one or more workspaces (one store per workspace, opened lazily)."""

    def __init__(
        self,
        settings: Settings,
        engine: WorkspaceEngine | None = None,
        *,
        engine_factory: EngineFactory | None = None,
        executor: Executor | None = None,
    ) -> None:
        if engine is None and engine_factory is None:
            raise ValueError("RunService needs an engine or an engine_factory")
        self.settings = settings
        self._engine = engine
        self._engine_factory = engine_factory
        self._executor = executor
        self._redactor = make_redactor(settings)
        self._lock = threading.Lock()
        self._stores: dict[Path, AgentStore] = {}
        self._active: dict[str, RunHandle] = {}
        self._workspace_of: dict[str, Path] = {}
        if engine is not None:
            self._store(engine.root)  # recover runs a crash left "running"

    # --- stores -------------------------------------------------------------------------
    def _store(self, workspace: Path) -> AgentStore:
        root = workspace.resolve()
        with self._lock:
            store = self._stores.get(root)
            if store is None:
                store = AgentStore.for_workspace(root, self.settings)
                store.recover_interrupted()
                self._stores[root] = store
            return store

    def _engine_for(self, root: Path) -> WorkspaceEngine:
        if self._engine is not None and self._engine.root.resolve() == root.resolve():
            return self._engine
        if self._engine_factory is not None:
            return self._engine_factory(root)
        assert self._engine is not None
        raise ValueError(
            f"this service serves {self._engine.root}, not {root} (pass an engine_factory)"
        )

    # --- public API ---------------------------------------------------------------------
    def start(
        self, request: RunRequest, on_event: EventCallback | None = None, *, trusted: bool = True
    ) -> RunHandle:
        """Record and start a run in a background thread; returns its handle at once."""
        root = Path(request.workspace).expanduser()
        if not root.is_dir():
            raise ValueError(f"workspace is not a directory: {request.workspace}")
        require_model(self.settings, request.model)
        root = root.resolve()
        request = request.model_copy(update={"workspace": str(root)})
        store = self._store(root)
        now = time.time()
        record = RunRecord(
            run_id=request.run_id,
            request=request.model_copy(update={"prompt": self._redactor.redact(request.prompt)}),
            status=RunStatus.QUEUED,
            created_at=now,
            updated_at=now,
        )
        store.runs.save(record)
        handle = RunHandle(request.run_id, request, CancelToken(), self)
        with self._lock:
            self._active[request.run_id] = handle
            self._workspace_of[request.run_id] = root
        self._audit(
            store,
            request.run_id,
            "run_started",
            {
                "crew": request.crew,
                "path": request.path,
                "range": request.range.model_dump() if request.range else None,
                "model": request.model,
                "prompt_chars": len(request.prompt),
            },
            actor="user",
        )
        thread = threading.Thread(
            target=self._run,
            args=(handle, record, store, on_event, trusted, carrier()),
            name=f"run:{request.crew}:{request.run_id[:8]}",
            daemon=True,
        )
        handle.thread = thread
        thread.start()
        return handle

    def cancel(self, run_id: str) -> bool:
        """Ask a run to stop (its in-flight model call is aborted); False if not running."""
        with self._lock:
            handle = self._active.get(run_id)
        if handle is None:
            return False
        handle.cancel_token.cancel()
        log.info("run_cancel_requested", run_id=run_id)
        watchdog = threading.Timer(CANCEL_GRACE_S, self._abandon_if_stuck, args=(handle,))
        watchdog.daemon = True
        watchdog.start()
        return True

    def _abandon_if_stuck(self, handle: RunHandle) -> None:
        """Record a cancelled run whose thread is still stuck (a blocking read, a model
        that never answers) as cancelled; the thread's late result is then ignored."""
        if handle.done or handle._abandon is None:
            return
        log.warning("run_abandoned_after_cancel", run_id=handle.run_id, grace_s=CANCEL_GRACE_S)
        handle._abandon()

    def get(self, run_id: str) -> RunRecord | None:
        """The run's record, from its workspace's store (any opened store)."""
        with self._lock:
            root = self._workspace_of.get(run_id)
            stores = list(self._stores.values())
        if root is not None:
            return self._store(root).runs.get(run_id)
        for store in stores:
            record = store.runs.get(run_id)
            if record is not None:
                return record
        return None

    def find(self, run_id: str, workspaces: builtins.list[Path]) -> RunRecord | None:
        """A run of any of `workspaces`, opening their stores if needed."""
        record = self.get(run_id)
        if record is not None:
            return record
        for root in workspaces:
            record = self._store(root).runs.get(run_id)
            if record is not None:
                return record
        return None

    def list(self, workspace: Path | None = None, limit: int = 50) -> builtins.list[RunRecord]:
        """Recent runs of `workspace` (default: every opened workspace), newest first."""
        if workspace is not None:
            return self._store(workspace).runs.recent(limit)
        with self._lock:
            stores = list(self._stores.values())
        records = [r for store in stores for r in store.runs.recent(limit)]
        return sorted(records, key=lambda r: r.created_at, reverse=True)[:limit]

    def wait(self, run_id: str, timeout: float | None = None) -> RunRecord | None:
        """Block until `run_id` ends (if it is active); its record."""
        with self._lock:
            handle = self._active.get(run_id)
        if handle is not None:
            return handle.wait(timeout)
        return self.get(run_id)

    def record_edit_applied(
        self,
        run_id: str,
        paths: str | builtins.list[str],
        applied: bool = True,
        *,
        workspace: Path | None = None,
    ) -> None:
        """Audit the user applying one of the run's proposed edits (`edit_applied`), or the
        editor failing/refusing to apply it (`edit_not_applied`)."""
        record = self.get(run_id)
        root = workspace or (Path(record.request.workspace) if record else None)
        if root is None:
            raise KeyError(f"unknown run {run_id}")
        files = [paths] if isinstance(paths, str) else list(paths)
        action = "edit_applied" if applied else "edit_not_applied"
        self._audit(self._store(root), run_id, action, {"paths": files}, actor="user")

    def record_feedback(
        self, record: RunRecord, verdict: FeedbackVerdict, comment: str | None = None
    ) -> None:
        """Audit a user's verdict on the run's answer (`answer_feedback`) and count it by crew
        and verdict (the business dashboard's feedback panel)."""
        data: dict[str, object] = {"verdict": verdict}
        if comment:
            data["comment"] = comment
        store = self._store(Path(record.request.workspace))
        self._audit(store, record.run_id, "answer_feedback", data, actor="user")
        ANSWER_FEEDBACK.labels(record.request.crew, verdict).inc()
        log.info("answer_feedback_recorded", run_id=record.run_id, verdict=verdict)

    def verify_audit(self, workspace: Path) -> ChainReport:
        return self._store(workspace).audit.verify_chain()

    def active_runs(self) -> builtins.list[str]:
        with self._lock:
            return list(self._active)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel active runs, wait briefly for them, close the stores."""
        with self._lock:
            handles = list(self._active.values())
        for handle in handles:
            handle.cancel_token.cancel()
        deadline = time.monotonic() + timeout
        for handle in handles:
            handle._done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stores = list(self._stores.values())
            self._stores.clear()
        for store in stores:
            store.close()

    # --- internals ----------------------------------------------------------------------
    def _audit(
        self,
        store: AgentStore,
        run_id: str,
        action: str,
        data: dict[str, object],
        actor: str = "llmgenie",
    ) -> None:
        try:
            store.audit.append(
                action, self._redactor.redact_value(dict(data)), actor=actor, run_id=run_id
            )
        except Exception as exc:  # the audit must not kill a run; the failure is logged loudly
            log.error("audit_append_failed", run_id=run_id, action=action, error=str(exc))

    def _run(
        self,
        handle: RunHandle,
        record: RunRecord,
        store: AgentStore,
        on_event: EventCallback | None,
        trusted: bool,
        parent: dict[str, str],
    ) -> None:
        """Execute the run inside a `run.execute` span (a child of `parent`, the trace
        context `start` was called in: an editor's, say); its record names the trace (when
        tracing is configured) so that `llmgenie runs` can point at it."""
        attributes = {"llmgenie.run_id": record.run_id, "llmgenie.crew": record.request.crew}
        with (
            continued(parent),
            tracer().start_as_current_span("run.execute", attributes=attributes),
            logging_run(record.run_id),
        ):
            trace_id = current_ids().get("trace_id")
            if trace_id:
                record = record.model_copy(update={"trace_id": trace_id})
            self._execute(handle, record, store, on_event, trusted)

    def _execute(
        self,
        handle: RunHandle,
        record: RunRecord,
        store: AgentStore,
        on_event: EventCallback | None,
        trusted: bool,
    ) -> None:
        request = handle.request
        run_id = request.run_id
        started = time.monotonic()
        ACTIVE_RUNS.inc()

        def send(event: RunEvent) -> None:
            if on_event is None:
                return
            try:
                on_event(event)
            except Exception as exc:  # a listener's bug must not end the run
                log.warning("run_event_listener_failed", run_id=run_id, error=str(exc))

        def emit(event: RunEvent) -> None:
            with handle._end_lock:
                if not handle._ended:  # a stuck thread's late events are dropped
                    send(event)

        def audit(action: str, data: dict[str, object]) -> None:
            actor = str(data.get("agent") or "agent")
            payload = {k: v for k, v in data.items() if k != "run_id"}
            self._audit(store, run_id, action, payload, actor=actor)

        def finish(
            status: RunStatus, result: RunResult | None, error: str | None, outcome: str
        ) -> None:
            """Record the run's end once: record, audit, metrics, last event, done."""
            with handle._end_lock:
                if handle._ended:
                    log.info("run_late_result_ignored", run_id=run_id, status=status.value)
                    return
                handle._ended = True
                seconds = time.monotonic() - started
                # Provider and tool errors can quote what they were sent: redact first.
                error = self._redactor.redact(error) if error else error
                final = record.model_copy(
                    update={
                        "status": status,
                        "result": result,
                        "error": error,
                        "updated_at": time.time(),
                    }
                )
                try:
                    store.runs.save(final)
                except Exception as exc:
                    log.error("run_record_save_failed", run_id=run_id, error=str(exc))
                self._audit(
                    store,
                    run_id,
                    "run_finished",
                    {
                        "status": status.value,
                        "error": error,
                        "model": result.model if result else None,
                        "tokens": result.tokens if result else 0,
                        "cost_usd": result.cost_usd if result else 0.0,
                        "edits": len(result.edits) if result else 0,
                        "findings": len(result.findings) if result else 0,
                        "seconds": round(seconds, 3),
                    },
                )
                AGENT_RESPONSE_TIME.labels(request.crew, "crew", outcome).observe(seconds)
                AGENT_TASKS.labels(request.crew, "crew", outcome).inc()
                ACTIVE_RUNS.dec()
                log.info(
                    "run_finished",
                    run_id=run_id,
                    crew=request.crew,
                    status=status.value,
                    error=error,
                    seconds=round(seconds, 3),
                )
                if result is not None and status is RunStatus.SUCCEEDED:
                    send(
                        RunEvent(
                            run_id=run_id,
                            kind="result",
                            message=result.message[:200],
                            data={"result": result.model_dump(mode="json"), "status": status.value},
                        )
                    )
                else:
                    send(
                        RunEvent(
                            run_id=run_id,
                            kind="error",
                            message=error or status.value,
                            data={"status": status.value},
                        )
                    )
                with self._lock:
                    self._active.pop(run_id, None)
                handle._done.set()

        handle._abandon = lambda: finish(
            RunStatus.CANCELLED, None, _error_text(Cancelled()), "cancelled"
        )

        outcome = "error"
        result: RunResult | None = None
        error: str | None = None
        status = RunStatus.FAILED
        try:
            record = record.model_copy(
                update={"status": RunStatus.RUNNING, "updated_at": time.time()}
            )
            store.runs.save(record)
            emit(
                RunEvent(run_id=run_id, kind="status", message="running", data={"stage": "running"})
            )
            engine = self._engine_for(Path(request.workspace))
            wrapper = SmartWrapper(self.settings, engine, self._executor)
            result = wrapper.run(
                request, emit=emit, cancel=handle.cancel_token, audit=audit, trusted=trusted
            )
            status, outcome = RunStatus.SUCCEEDED, "success"
        except Cancelled as exc:
            status, outcome, error = RunStatus.CANCELLED, "cancelled", _error_text(exc)
        except (PathEscapeError, PermissionDenied) as exc:
            error = _error_text(exc)
            audit("permission_denied", {"reason": error})
        except BudgetExceeded as exc:
            outcome, error = "budget_exceeded", _error_text(exc)
        except Exception as exc:
            error = _error_text(exc)
            if error.startswith("internal error"):
                log.exception("run_crashed", run_id=run_id, crew=request.crew)
        finally:
            finish(status, result, error, outcome)
