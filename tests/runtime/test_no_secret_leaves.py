"""No secret from the corpus ever reaches the model server, whatever path it takes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.agents.environment import RunEnvironment
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunRequest, RunResult, RunStatus
from llmgenie.engine import WorkspaceEngine
from llmgenie.runs.service import RunService
from tests.runtime.conftest import APP_PY, llm_settings, streaming_executor
from tests.support.model_server import ModelServer, Reply

CORPUS = Path(__file__).parent / "secrets_corpus"
SECRETS: dict[str, str] = json.loads((CORPUS / "SECRETS.json").read_text())
CORPUS_FILES = sorted(
    p.relative_to(CORPUS).as_posix()
    for p in CORPUS.rglob("*")
    if p.is_file() and p.name != "SECRETS.json"
)


@pytest.fixture
def secret_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "leaky"
    shutil.copytree(CORPUS, root)
    (root / "SECRETS.json").unlink()
    (root / "app.py").write_text(APP_PY)
    # guidance files are sent to the model too: they must be redacted as well
    (root / ".cursorrules").write_text(f"Deploy with token {SECRETS['github']}\n")
    return root


@pytest.fixture
def secret_engine(secret_workspace: Path) -> Iterator[WorkspaceEngine]:
    engine = WorkspaceEngine.open(secret_workspace)
    engine.index()
    try:
        yield engine
    finally:
        engine.close()


def _leaks(server: ModelServer) -> list[str]:
    sent = server.all_sent_text()
    assert sent, "nothing was sent: the test would prove nothing"
    return [name for name, value in SECRETS.items() if value in sent]


@pytest.mark.parametrize("rel_path", CORPUS_FILES)
def test_run_on_a_secret_file_sends_no_secret(
    model_server: ModelServer,
    secret_engine: WorkspaceEngine,
    secret_workspace: Path,
    rel_path: str,
) -> None:
    model_server.script(Reply.stream(["looks ", "fine"]))
    service = RunService(llm_settings(model_server), secret_engine, executor=streaming_executor)
    request = RunRequest(
        crew="security",
        workspace=str(secret_workspace),
        path=rel_path,
        prompt=f"is {SECRETS['aws_id']} a live key?",
    )
    record = service.start(request).wait(60)
    service.close()
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert _leaks(model_server) == []
    # the run record and the audit log do not keep the secret either
    assert SECRETS["aws_id"] not in record.model_dump_json()


def test_the_client_redacts_even_when_a_crew_sends_raw_file_text(
    model_server: ModelServer, secret_engine: WorkspaceEngine, secret_workspace: Path
) -> None:
    def careless(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
        raw = "\n".join(env.engine.read_text(p) for p in CORPUS_FILES)  # not redacted
        completion = env.client.complete(
            [
                {"role": "user", "content": raw},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "read_file",
                                "arguments": json.dumps({"text": raw[:2000]}),
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": raw},
            ]
        )
        return RunResult(message=completion.text, model=completion.model)

    model_server.script(Reply.plain("ok"))
    service = RunService(llm_settings(model_server), secret_engine, executor=careless)
    record = service.start(
        RunRequest(crew="chat", workspace=str(secret_workspace), prompt="review")
    ).wait(60)
    service.close()
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert _leaks(model_server) == []


def test_real_chat_crew_reading_a_secret_file_sends_no_secret(
    model_server: ModelServer, secret_engine: WorkspaceEngine, secret_workspace: Path
) -> None:
    """The CrewAI chat crew calls read_file on .env; the tool output is redacted too."""
    model_server.script(
        Reply.tool_call("read_file", {"path": ".env"}),
        Reply.tool_call("read_file", {"path": "settings.py"}),
        Reply.stream(["The .env holds ", "API keys; rotate them."]),
    )
    model_server.default_reply = Reply.plain("The .env holds API keys; rotate them.")
    service = RunService(llm_settings(model_server), secret_engine)  # the real crews
    record = service.start(
        RunRequest(
            crew="chat",
            workspace=str(secret_workspace),
            path=".env",
            prompt="What is in .env? Quote it.",
        )
    ).wait(240)
    service.close()
    assert record.status is RunStatus.SUCCEEDED, record.error
    bodies = [r.body for r in model_server.chat_requests()]
    tool_outputs = [m for b in bodies for m in b["messages"] if m.get("role") == "tool"]
    assert tool_outputs, "the crew never fed a tool result back to the model"
    assert "«REDACTED:" in json.dumps(tool_outputs, ensure_ascii=False)
    assert _leaks(model_server) == []
