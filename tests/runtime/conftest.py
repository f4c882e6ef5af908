"""Fixtures for the agent-runtime tests: a small real workspace, its engine, settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmgenie.agents.environment import RunEnvironment
from llmgenie.config import Settings
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunResult
from llmgenie.engine import WorkspaceEngine
from tests.support.model_server import ModelServer

APP_PY = '''"""Order service."""

import os

DB_PASSWORD = "Pg!s3cr3t-Wh4le#2024"


def connect(host: str) -> str:
    """Connect to the orders database."""
    return f"postgres://orders:{DB_PASSWORD}@{host}/orders"


def total(items: list[int]) -> int:
    s = 0
    for i in items:
        s += i
    return s
'''


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text(APP_PY)
    (root / "README.md").write_text("# Orders\n\nAll money amounts are integers in cents.\n")
    (root / ".cursorrules").write_text("Always use type hints. Never print in library code.\n")
    (root / ".cursor" / "rules").mkdir(parents=True)
    (root / ".cursor" / "rules" / "tests.mdc").write_text(
        "---\nglobs: tests/**\n---\nUse pytest.\n"
    )
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    return root


@pytest.fixture
def engine(workspace: Path) -> Iterator[WorkspaceEngine]:
    eng = WorkspaceEngine.open(workspace, Settings())
    eng.index()
    try:
        yield eng
    finally:
        eng.close()


def llm_settings(server: ModelServer, **llm: Any) -> Settings:
    """Settings whose model chain points at the scripted server (fast retries)."""
    base: dict[str, Any] = {
        "model": "openai/model-a",
        "api_base": server.url,
        "api_key": "sk-test-scripted-0000",
        "timeout_s": 10.0,
        "max_retries": 1,
    }
    base.update(llm)
    return Settings(llm=base)  # type: ignore[arg-type]


Executor = Callable[[AnalyzedContext, RunEnvironment], RunResult]


def streaming_executor(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
    """A minimal crew: one streamed model call over everything the context analysis found."""
    from llmgenie.contracts.runs import RunEvent

    parts = [ctx.file_text, ctx.selection_text, ctx.repo_map, *ctx.guidance]
    parts += [hit.text or "" for hit in ctx.related]
    messages = [
        {"role": "system", "content": "You explain code."},
        {"role": "user", "content": "\n\n".join(p for p in parts if p) + "\n" + ctx.request.prompt},
    ]

    def delta(text: str) -> None:
        env.emit(RunEvent(run_id=ctx.request.run_id, kind="delta", message=text))

    completion = env.client.complete(messages, on_delta=delta)
    return RunResult(
        message=completion.text,
        model=completion.model,
        tokens=completion.prompt_tokens + completion.completion_tokens,
        cost_usd=completion.cost_usd,
    )
