"""Cancel means cancelled: a run stuck in a tool or a model call ends within seconds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from llmgenie.agents.environment import RunEnvironment
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunEvent, RunRequest, RunResult, RunStatus
from llmgenie.engine import WorkspaceEngine
from llmgenie.runs.service import RunService
from tests.runtime.conftest import llm_settings
from tests.support.model_server import ModelServer, Reply


def _request(workspace: Path, crew: str = "explain") -> RunRequest:
    return RunRequest.model_validate(
        {"crew": crew, "workspace": str(workspace), "path": "app.py", "prompt": "Explain"}
    )


def test_cancel_ends_a_run_whose_tool_call_never_returns(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    """The run's thread is blocked in a tool that ignores the cancel token (a read that
    never ends): the run is still recorded as cancelled within seconds, once, and the
    thread's late result changes nothing."""
    in_tool = threading.Event()
    release = threading.Event()

    def stuck_in_a_tool(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
        env.emit(RunEvent(run_id=ctx.request.run_id, kind="tool", message="read_file"))
        in_tool.set()
        release.wait(60)
        env.emit(RunEvent(run_id=ctx.request.run_id, kind="delta", message="too late"))
        return RunResult(message="a late answer")

    service = RunService(llm_settings(model_server), engine, executor=stuck_in_a_tool)
    events: list[RunEvent] = []
    handle = service.start(_request(workspace), events.append)
    assert in_tool.wait(60), "the run never reached its tool call"
    assert service.cancel(handle.run_id)
    cancelled_at = time.monotonic()
    record = handle.wait(30)
    took = time.monotonic() - cancelled_at

    assert record.status is RunStatus.CANCELLED
    assert took < 10, f"cancelled after {took:.1f}s"
    assert service.get(handle.run_id) == record
    assert service.cancel(handle.run_id) is False  # no longer active
    last = len(events)
    assert events[-1].kind == "error" and events[-1].data["status"] == "cancelled"

    release.set()  # the stuck thread finishes now; its result must be ignored
    assert handle.thread is not None
    handle.thread.join(30)
    assert not handle.thread.is_alive()
    assert len(events) == last, [e.kind for e in events[last:]]
    after = service.get(handle.run_id)
    assert after is not None and after.status is RunStatus.CANCELLED and after.result is None
    finished = [
        r
        for r in service._store(workspace).audit.records(handle.run_id)
        if r.action == "run_finished"
    ]
    assert [r.data["status"] for r in finished] == ["cancelled"]
    service.close()


def test_cancel_ends_a_run_waiting_on_a_model_that_never_answers(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    model_server.script(Reply.hang())
    service = RunService(llm_settings(model_server, timeout_s=120), engine)
    handle = service.start(_request(workspace, crew="chat"))
    model_server.wait_for_requests(1, timeout=60)
    cancelled_at = time.monotonic()
    assert service.cancel(handle.run_id)
    record = handle.wait(30)

    assert record.status is RunStatus.CANCELLED
    assert time.monotonic() - cancelled_at < 10
    service.close()
