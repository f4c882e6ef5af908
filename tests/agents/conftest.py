"""Fixtures for the crew tests: a real workspace index, the scripted model server, and a
RunEnvironment wired to the real ModelClient (litellm over HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llmgenie.agents.environment import RunEnvironment
from llmgenie.agents.roles import default_allowed_tools
from llmgenie.config import load_settings
from llmgenie.contracts.agents import AnalyzedContext, PermissionDecision
from llmgenie.contracts.progress import CancelToken
from llmgenie.contracts.runs import LineRange, RunEvent, RunRequest
from llmgenie.engine import WorkspaceEngine
from llmgenie.llm.budget import RunBudget
from llmgenie.llm.client import ModelClient
from llmgenie.redaction import redact
from tests.support.model_server import ModelServer, Reply

DB_PY = textwrap.dedent(
    '''\
    """Tiny user store."""

    import sqlite3


    def connect(path):
        return sqlite3.connect(path)


    def find_user(conn, name):
        cursor = conn.cursor()
        cursor.execute(f"SELECT id, name FROM users WHERE name = '{name}'")
        return cursor.fetchone()


    def common_names(users, banned):
        result = []
        for user in users:
            if user in banned and user not in result:
                result.append(user)
        return result
    '''
)
SQL_LINE = 12  # the cursor.execute(f"...") line in DB_PY

README = textwrap.dedent(
    """\
    # Shop service

    Stores users in SQLite. Decision: all SQL uses parameterised queries.

    ## Deployment
    The service is deployed with a container image built in CI.
    """
)


@dataclass
class Recorder:
    """Collects what a run emitted and audited."""

    events: list[RunEvent] = field(default_factory=list)
    audit: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def emit(self, event: RunEvent) -> None:
        self.events.append(event)

    def record(self, action: str, data: dict[str, object]) -> None:
        self.audit.append((action, data))

    def actions(self, name: str) -> list[dict[str, object]]:
        return [data for action, data in self.audit if action == name]

    def deltas(self) -> str:
        return "".join(e.message for e in self.events if e.kind == "delta")


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    server = ModelServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[WorkspaceEngine]:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "db.py").write_text(DB_PY, encoding="utf-8")
    (root / "README.md").write_text(README, encoding="utf-8")
    (root / "requirements.txt").write_text("flask==3.0.3\n", encoding="utf-8")
    settings = load_settings(root, index={"embeddings": "none"})
    engine = WorkspaceEngine.open(root, settings)
    engine.index()
    try:
        yield engine
    finally:
        engine.close()


@dataclass
class Harness:
    """Everything a crew test needs: build the context and environment, then run."""

    engine: WorkspaceEngine
    server: ModelServer
    recorder: Recorder = field(default_factory=Recorder)
    cancel: CancelToken = field(default_factory=CancelToken)
    agent_models: dict[str, str] = field(default_factory=dict)
    allowed: dict[str, list[str]] = field(default_factory=default_allowed_tools)
    budget_tokens: int | None = None
    models: list[str] = field(default_factory=lambda: ["openai/scripted-model"])
    client_options: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.engine.root

    def context(
        self,
        crew: str,
        path: str | None = "app/db.py",
        lines: tuple[int, int] | None = None,
        prompt: str = "",
        diagnostic: str | None = None,
    ) -> AnalyzedContext:
        text = self.engine.read_text(path) if path else ""
        selection = ""
        if lines and text:
            selection = "\n".join(text.splitlines()[lines[0] - 1 : lines[1]])
        request = RunRequest(
            crew=crew,  # type: ignore[arg-type]
            workspace=str(self.root),
            path=path,
            range=LineRange(start_line=lines[0], end_line=lines[1]) if lines else None,
            prompt=prompt,
            diagnostic=diagnostic,
        )
        return AnalyzedContext(
            request=request,
            language="python" if path and path.endswith(".py") else None,
            file_text=redact(text),
            selection_text=redact(selection),
        )

    def env(self) -> RunEnvironment:
        client = ModelClient(
            list(self.models),
            api_base=self.server.url,
            api_key="sk-test-not-a-real-key",
            timeout_s=20,
            max_retries=0,
            redact=redact,
            cancel=self.cancel,
            budget=RunBudget(max_tokens=self.budget_tokens),
            **self.client_options,
        )
        return RunEnvironment(
            engine=self.engine,
            client=client,
            agent_models=dict(self.agent_models),
            permissions=PermissionDecision(allowed_tools=self.allowed),
            redact=redact,
            emit=self.recorder.emit,
            cancel=self.cancel,
            audit=self.recorder.record,
        )

    def chat_bodies(self, model: str | None = None) -> list[dict[str, Any]]:
        return [r.body for r in self.server.chat_requests() if model is None or r.model == model]


@pytest.fixture
def harness(workspace: WorkspaceEngine, model_server: ModelServer) -> Harness:
    return Harness(engine=workspace, server=model_server)


def final(
    message: str,
    edits: list[dict[str, Any]] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> Reply:
    """A scripted final answer in the CrewReport format."""
    return Reply.plain(
        json.dumps({"message": message, "edits": edits or [], "findings": findings or []})
    )


def tool_messages(body: dict[str, Any]) -> list[str]:
    """The tool results a request carried back to the model."""
    return [str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "tool"]


def system_prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    return str(messages[0].get("content")) if messages else ""
