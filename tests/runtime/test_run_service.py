"""RunService end to end: real engine, real store, real litellm against the scripted server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from llmgenie.agents.environment import RunEnvironment
from llmgenie.config import Settings
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.errors import NoModelConfigured
from llmgenie.contracts.runs import LineRange, RunEvent, RunRequest, RunResult, RunStatus
from llmgenie.engine import WorkspaceEngine
from llmgenie.runs.service import RunService
from llmgenie.store.runs import INTERRUPTED_MESSAGE
from llmgenie.store.store import AgentStore
from tests.runtime.conftest import llm_settings, streaming_executor
from tests.support.model_server import ModelServer, Reply


def _service(server: ModelServer, engine: WorkspaceEngine, **llm: object) -> RunService:
    return RunService(llm_settings(server, **llm), engine, executor=streaming_executor)


def _request(workspace: Path, **fields: object) -> RunRequest:
    data: dict[str, object] = {"crew": "explain", "workspace": str(workspace), "path": "app.py"}
    data.update(fields)
    return RunRequest.model_validate(data)


def _actions(service: RunService, workspace: Path, run_id: str) -> list[str]:
    return [r.action for r in service._store(workspace).audit.records(run_id)]


def test_a_run_streams_events_persists_its_record_and_audits(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    model_server.script(Reply.stream(["It sums ", "the items."], delay=0.01))
    service = _service(model_server, engine)
    events: list[RunEvent] = []
    handle = service.start(
        _request(workspace, range=LineRange(start_line=13, end_line=17)), events.append
    )
    record = handle.wait(60)
    service.close()

    assert record.status is RunStatus.SUCCEEDED, record.error
    assert record.result is not None
    assert record.result.message == "It sums the items."
    assert record.result.model == "openai/model-a"
    stages = [e.data.get("stage") for e in events if e.kind == "status"]
    assert stages[:4] == ["running", "context_analyzed", "permission_checked", "environment_ready"]
    assert "".join(e.message for e in events if e.kind == "delta") == "It sums the items."
    assert events[-1].kind == "result"
    assert events[-1].data["result"]["message"] == "It sums the items."
    # what the model saw: the selection, the enclosing symbol's file, project rules
    prompt = model_server.chat_requests()[0].body["messages"][1]["content"]
    assert "def total" in prompt and "Always use type hints" in prompt
    assert "Use pytest" not in prompt, "a rule scoped to tests/** is not for a run on app.py"

    reopened = RunService(llm_settings(model_server), engine)
    assert reopened.get(handle.run_id) == record
    assert [r.run_id for r in reopened.list(workspace)] == [handle.run_id]
    assert _actions(reopened, workspace, handle.run_id) == [
        "run_started",
        "model_used",
        "run_finished",
    ]
    assert reopened.verify_audit(workspace).ok
    reopened.close()


def test_no_model_configured_is_refused_with_the_how_to(
    engine: WorkspaceEngine, workspace: Path
) -> None:
    service = RunService(Settings(), engine, executor=streaming_executor)
    with pytest.raises(NoModelConfigured, match=r"No model configured: set llmgenie\.model"):
        service.start(_request(workspace))
    assert service.list(workspace) == []
    service.close()


def test_cancel_mid_stream_ends_the_run_and_closes_the_model_connection(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    model_server.script(Reply.stream(["thinking ", "about it"], delay=0.01, hang=True))
    service = _service(model_server, engine, timeout_s=120)
    streaming = threading.Event()
    handle = service.start(
        _request(workspace), lambda e: streaming.set() if e.kind == "delta" else None
    )
    assert streaming.wait(60), "the model never started streaming"
    cancelled_at = time.monotonic()
    assert service.cancel(handle.run_id)
    record = handle.wait(30)
    assert time.monotonic() - cancelled_at < 5
    assert record.status is RunStatus.CANCELLED
    assert model_server.wait_for_disconnect(timeout=5).chunks_sent >= 2
    assert service.cancel(handle.run_id) is False  # no longer active
    service.close()


def test_budget_exceeded_fails_the_run_cleanly(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    def two_calls(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
        messages = [{"role": "user", "content": "step"}]
        env.client.complete(messages)
        env.client.complete(messages)
        return RunResult(message="unreachable")

    model_server.script(Reply.plain("one", prompt_tokens=80, completion_tokens=40), repeat=2)
    service = RunService(llm_settings(model_server, budget_tokens=100), engine, executor=two_calls)
    record = service.start(_request(workspace)).wait(60)
    assert record.status is RunStatus.FAILED
    assert record.error is not None and record.error.startswith("budget exceeded")
    assert len(model_server.chat_requests()) == 1
    finished = [r for r in service._store(workspace).audit.records(record.run_id)][-1]
    assert finished.action == "run_finished" and finished.data["status"] == "failed"
    service.close()


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", "link/secret.txt"])
def test_paths_outside_the_workspace_are_refused_and_audited(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path, path: str
) -> None:
    outside = workspace.parent / "outside.txt"
    outside.write_text("top secret\n")
    (workspace / "link").symlink_to(workspace.parent, target_is_directory=True)
    (workspace.parent / "secret.txt").write_text("top secret\n")
    service = _service(model_server, engine)
    record = service.start(_request(workspace, path=path)).wait(60)
    assert record.status is RunStatus.FAILED
    assert record.error is not None and record.error.startswith("refused:")
    assert model_server.chat_requests() == []
    assert "permission_denied" in _actions(service, workspace, record.run_id)
    service.close()


def test_denied_crew_fails_with_a_clear_message_and_is_audited(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    settings = llm_settings(model_server).model_copy(
        update={"permissions": {"deny_crews": ["devops"]}}
    )
    service = RunService(settings, engine, executor=streaming_executor)
    record = service.start(_request(workspace, crew="devops")).wait(60)
    assert record.status is RunStatus.FAILED
    assert record.error is not None and "devops crew is not allowed" in record.error
    denied = [
        r
        for r in service._store(workspace).audit.records(record.run_id)
        if r.action == "permission_denied"
    ]
    assert denied and "devops" in denied[0].data["reason"]
    assert model_server.chat_requests() == []
    service.close()


def test_untrusted_workspace_gets_read_only_tools(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    seen: dict[str, list[str]] = {}

    def inspect(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
        seen.update(env.permissions.allowed_tools)
        return RunResult(message="looked")

    service = RunService(llm_settings(model_server), engine, executor=inspect)
    record = service.start(_request(workspace, crew="security"), trusted=False).wait(60)
    assert record.status is RunStatus.SUCCEEDED
    assert seen and all("propose_edit" not in tools for tools in seen.values())
    assert all("read_file" in tools for tools in seen.values())
    denials = [
        r
        for r in service._store(workspace).audit.records(record.run_id)
        if r.action == "permission_denied"
    ]
    assert any("untrusted" in r.data["reason"] for r in denials)
    service.close()


CRASHING_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.contracts.runs import RunRequest
    from llmgenie.runs.service import RunService
    from tests.runtime.conftest import llm_settings, streaming_executor
    from tests.support.model_server import ModelServer, Reply

    server = ModelServer().start()
    server.script(Reply.hang())
    root = Path(sys.argv[1])
    engine = WorkspaceEngine.open(root, llm_settings(server))
    service = RunService(llm_settings(server), engine, executor=streaming_executor)
    handle = service.start(RunRequest(crew="explain", workspace=str(root), path="app.py"))
    server.wait_for_requests(1, timeout=120)
    print(handle.run_id, flush=True)
    time.sleep(600)
    """
)


def test_a_run_left_running_by_a_crash_is_marked_failed_on_restart(
    model_server: ModelServer, workspace: Path, engine: WorkspaceEngine
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(workspace)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        assert run_id, "the child never started its run"
        live = RunService(llm_settings(model_server), engine)
        assert live.get(run_id) is not None
        assert live.get(run_id).status is RunStatus.RUNNING  # type: ignore[union-attr]
        live.close()
    finally:
        proc.kill()  # the crash: no chance to record anything
        proc.wait(10)
    restarted = RunService(llm_settings(model_server), engine)
    record = restarted.get(run_id)
    assert record is not None
    assert record.status is RunStatus.FAILED
    assert record.error == INTERRUPTED_MESSAGE
    restarted.close()
    store = AgentStore.for_workspace(workspace, llm_settings(model_server))
    try:
        trail = [(r.action, r.data) for r in store.audit.records(run_id)]
        assert store.audit.verify_chain().ok
    finally:
        store.close()
    assert trail[-2][0] == "run_crashed" and trail[-2][1]["status"] == "running"
    assert trail[-2][1]["owner_pid"] == proc.pid
    assert trail[-1] == (
        "run_recovered",
        {"run_id": run_id, "status": "failed", "error": INTERRUPTED_MESSAGE},
    )


def test_edit_applied_is_audited(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    model_server.script(Reply.plain("done"))
    service = _service(model_server, engine)
    handle = service.start(_request(workspace))
    handle.wait(60)
    service.record_edit_applied(handle.run_id, "app.py")
    service.record_edit_applied(handle.run_id, ["app.py", "README.md"], False)
    records = list(service._store(workspace).audit.records(handle.run_id))
    assert records[-2].action == "edit_applied"
    assert records[-2].data == {"paths": ["app.py"]}
    assert records[-2].actor == "user"
    assert records[-1].action == "edit_not_applied"
    assert records[-1].data == {"paths": ["app.py", "README.md"]}
    report = service.verify_audit(workspace)
    assert report.ok and report.records == len(records)
    service.close()


def test_events_json_roundtrip(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    model_server.script(Reply.plain("fine"))
    events: list[RunEvent] = []
    service = _service(model_server, engine)
    service.start(_request(workspace), events.append).wait(60)
    for event in events:
        assert RunEvent.model_validate(json.loads(event.model_dump_json())) == event
    service.close()


def test_engine_factory_mode_serves_runs_and_lists_them(
    model_server: ModelServer, engine: WorkspaceEngine, workspace: Path
) -> None:
    """The language server's way: one service, engines looked up per workspace root."""
    opened: list[Path] = []

    def factory(root: Path) -> WorkspaceEngine:
        opened.append(root)
        return engine

    model_server.script(Reply.plain("via factory"))
    service = RunService(
        llm_settings(model_server), engine_factory=factory, executor=streaming_executor
    )
    handle = service.start(_request(workspace))
    record = handle.wait(60)
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert opened == [workspace.resolve()]
    assert service.get(handle.run_id) == record
    assert [r.run_id for r in service.list()] == [handle.run_id]
    service.close()
