"""Running a team run: claim it, run the smart wrapper in a sandbox, record what happens.

`RunQueue` is how the server hands runs to whatever executes them; `InProcessQueue` (this
issue's implementation) runs them on a thread pool of the server process. Whatever runs a
run goes through `RunRunner.execute`: the attempt it claims fences every write, events are
appended to the ledger with their sequence numbers and announced on the live tail, and the
run ends exactly once (result or error, recorded with the last event).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from llmgenie.config import Settings
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.progress import CancelToken
from llmgenie.contracts.runs import RunEvent, RunResult, RunStatus
from llmgenie.observability.logging import get_logger, logging_run
from llmgenie.observability.metrics import ACTIVE_RUNS, AGENT_RESPONSE_TIME, AGENT_TASKS
from llmgenie.observability.tracing import continued, tracer
from llmgenie.remote.blobs import BlobStore, load_files
from llmgenie.remote.ledger import AuditItem, Ledger, NotFound, StaleAttempt
from llmgenie.remote.live import EventTail
from llmgenie.remote.roles import role_policy
from llmgenie.remote.workspace import EditorChannel, EditorWorkspace, NoEditor, write_files
from llmgenie.runs.outcome import run_error
from llmgenie.wrapper.pipeline import SmartWrapper

_log = get_logger(__name__)

CANCEL_POLL_S = 0.5
LEASE_S = 30.0


class RunQueue(Protocol):
    """Where accepted runs go to be executed."""

    def enqueue(self, run_id: str) -> None: ...

    def cancel(self, run_id: str) -> None:
        """Interrupt the run if this queue is executing it (the ledger has the request)."""
        ...

    def close(self) -> None: ...


class RunRunner:
    """Executes one run end to end against the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        sandboxes: Path,
        tail: EventTail,
        channel_for: Callable[[str], EditorChannel],
        callback_timeout_s: float,
        blobs: BlobStore,
        owner: str = "server",
        lease_s: float = LEASE_S,
        on_released: Callable[[str], None] | None = None,
        repository_channel: Callable[[str], EditorChannel] | None = None,
    ) -> None:
        self.ledger = ledger
        self.repository_channel = repository_channel
        self.owner = owner
        self.lease_s = lease_s
        self.on_released = on_released
        self._draining = threading.Event()
        self.settings = settings
        self.sandboxes = sandboxes
        self.tail = tail
        self.channel_for = channel_for
        self.callback_timeout_s = callback_timeout_s
        self.blobs = blobs
        self._tokens: dict[str, CancelToken] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified as each run stops working

    def cancel(self, run_id: str) -> None:
        with self._lock:
            token = self._tokens.get(run_id)
        if token is not None:
            token.cancel()

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def running(self) -> int:
        """How many runs this runner is working on now."""
        with self._lock:
            return len(self._tokens)

    def stop_claiming(self) -> None:
        """About to stop (a pod's preStop): claim nothing more; the runs in progress go on."""
        self._draining.set()

    def drain(self, grace_s: float = 0.0) -> None:
        """Shutting down: claim nothing more, let the runs still working finish for up to
        `grace_s`, then hand back the rest (queued again, for another worker, with nothing
        of theirs recorded as ended)."""
        self.stop_claiming()
        with self._idle:
            self._idle.wait_for(lambda: not self._tokens, timeout=grace_s)
            tokens = list(self._tokens.values())
        for token in tokens:
            token.cancel()

    def execute(self, run_id: str, trace: Mapping[str, str] | None = None) -> None:
        """Run `run_id` to its end (a run that already ended is left alone), in the trace
        of `trace` (the doorbell's headers: the submit, or a worker that handed the run
        back), else in the trace its submit started (kept in the run's ledger row)."""
        if self._draining.is_set():
            return  # the doorbell goes unanswered: the reaper rings it again elsewhere
        headers = trace
        if not headers:
            try:
                headers = (self.ledger.context_of(run_id) or {}).get("trace")
            except Exception:  # the claim below reports a real problem
                headers = None
        with (
            continued(headers),
            tracer().start_as_current_span(
                "run.execute", attributes={"llmgenie.run_id": run_id, "llmgenie.worker": self.owner}
            ),
            logging_run(run_id),
        ):
            self._execute(run_id)

    def _execute(self, run_id: str) -> None:
        try:
            attempt = self.ledger.claim(run_id, self.owner, self.lease_s)
        except (StaleAttempt, NotFound) as exc:  # ended, held elsewhere (a duplicate), gone
            _log.info("run_not_claimed", run_id=run_id, reason=str(exc))
            return
        team_id = self.ledger.team_of_run(run_id)
        assert team_id is not None
        run = self.ledger.get(team_id, run_id)
        token = CancelToken()
        with self._lock:
            self._tokens[run_id] = token
        stop_watch = threading.Event()
        threading.Thread(
            target=self._watch, args=(run_id, attempt, token, stop_watch), daemon=True
        ).start()
        sandbox = self.sandboxes / run_id
        sandbox.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        ACTIVE_RUNS.inc()
        result: RunResult | None = None
        status, outcome, error = RunStatus.SUCCEEDED, "success", None
        engine: EditorWorkspace | None = None

        def emit(event: RunEvent) -> None:
            try:
                sequenced = self.ledger.append_event(run_id, attempt, event)
            except StaleAttempt:
                token.cancel()  # another attempt holds the run: stop working on it
                return
            self.tail.publish(run_id, sequenced.seq)

        audited: list[AuditItem] = []  # recorded with the run's end, by the attempt that ends it

        def audit(action: str, data: dict[str, object]) -> None:
            actor = str(data.get("agent") or "agent")
            audited.append((action, {k: v for k, v in data.items() if k != "run_id"}, actor))

        try:
            role = self.ledger.role_of(run.user_id, team_id) or "viewer"
            settings = self.settings.model_copy(
                update={"permissions": role_policy(self.settings.permissions, role)}
            )
            raw_context = self.ledger.context_of(run_id) or {}
            files = raw_context.get("files") or load_files(
                self.blobs, raw_context.get("bundle") or {}
            )
            write_files(sandbox, files)
            channel = self._channel(run_id, bool(files), raw_context.get("repository"))
            engine = EditorWorkspace.for_run(
                run_id, sandbox, settings, channel, self.callback_timeout_s
            )
            request = run.request.model_copy(update={"workspace": str(engine.root)})
            analyzed = raw_context.get("analyzed")
            context = AnalyzedContext.model_validate(analyzed) if analyzed else None
            emit(
                RunEvent(
                    run_id=run_id,
                    kind="status",
                    message="running" if attempt == 1 else f"running again (attempt {attempt})",
                    data={"stage": "running", "attempt": attempt},
                )
            )
            result = SmartWrapper(settings, engine).run(
                request, emit=emit, cancel=token, audit=audit, context=context
            )
        except BaseException as exc:
            status, outcome, error = run_error(exc)
            if outcome == "error" and error.startswith("internal error"):
                _log.exception("team_run_crashed", run_id=run_id)
        finally:
            stop_watch.set()
            with self._lock:
                self._tokens.pop(run_id, None)
                self._idle.notify_all()
            if engine is not None:
                engine.close()
            shutil.rmtree(sandbox, ignore_errors=True)
            seconds = time.monotonic() - started
            AGENT_RESPONSE_TIME.labels(run.crew, "crew", outcome).observe(seconds)
            AGENT_TASKS.labels(run.crew, "crew", outcome).inc()
            ACTIVE_RUNS.dec()
        handed_back = (
            self._draining.is_set()
            and status is RunStatus.CANCELLED
            and not self.ledger.cancel_requested(run_id)
            and self._release(run_id, attempt)
        )
        if handed_back:
            return
        final = (
            RunEvent(
                run_id=run_id,
                kind="result",
                message=result.message[:200],
                data={"result": result.model_dump(mode="json"), "status": status.value},
            )
            if result is not None and status is RunStatus.SUCCEEDED
            else RunEvent(
                run_id=run_id,
                kind="error",
                message=error or status.value,
                data={"status": status.value},
            )
        )
        if self.ledger.finish(run_id, attempt, status, result, error, final, audited):
            self.tail.publish(run_id, self.ledger.get(team_id, run_id).last_seq)
        _log.info(
            "team_run_finished", run_id=run_id, status=status.value, seconds=round(seconds, 3)
        )

    def _channel(
        self, run_id: str, has_files: bool, repository: dict[str, Any] | None
    ) -> EditorChannel:
        """Who answers the run's questions about code: its own files (headless), the team
        index (a registered repository), or the editor that submitted it."""
        if has_files:
            return NoEditor()
        if repository is not None:
            if self.repository_channel is None:
                raise RuntimeError("this runner has no team index to answer from")
            return self.repository_channel(str(repository["id"]))
        return self.channel_for(run_id)

    def _release(self, run_id: str, attempt: int) -> bool:
        """Hand a run back to the queue (this worker is shutting down)."""
        try:
            self.ledger.append_event(
                run_id,
                attempt,
                RunEvent(
                    run_id=run_id,
                    kind="status",
                    message="handed back: its worker is shutting down; another resumes it",
                    data={"stage": "released", "attempt": attempt},
                ),
            )
            released = self.ledger.release(run_id, attempt)
        except StaleAttempt:
            return False
        if released:
            _log.info("run_released", run_id=run_id, attempt=attempt, worker=self.owner)
            if self.on_released is not None:
                self.on_released(run_id)
        return released

    def _watch(self, run_id: str, attempt: int, token: CancelToken, stop: threading.Event) -> None:
        """While the run works: renew its lease every third of it (a worker that lost it
        stops: another holds the run now), and stop at a cancel recorded in the ledger by
        any server process."""
        last_beat = time.monotonic()
        every = min(5.0, self.lease_s / 3)
        while not stop.wait(CANCEL_POLL_S):
            try:
                if self.ledger.cancel_requested(run_id):
                    token.cancel()
                    return
                if time.monotonic() - last_beat >= every:
                    last_beat = time.monotonic()
                    if not self.ledger.heartbeat(run_id, attempt, self.lease_s):
                        _log.warning("lease_lost", run_id=run_id, attempt=attempt)
                        token.cancel()
                        return
            except Exception as exc:  # the database blinked: try again next tick
                _log.warning("run_watch_failed", run_id=run_id, error=repr(exc))


class InProcessQueue:
    """Runs on a thread pool of this server process (the team server's first queue)."""

    def __init__(self, runner: RunRunner, workers: int = 4) -> None:
        self.runner = runner
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="llmgenie-team-run")

    def enqueue(self, run_id: str) -> None:
        self._pool.submit(self._execute, run_id)

    def _execute(self, run_id: str) -> None:
        try:
            self.runner.execute(run_id)
        except Exception:
            _log.exception("team_run_failed_to_execute", run_id=run_id)

    def cancel(self, run_id: str) -> None:
        self.runner.cancel(run_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
