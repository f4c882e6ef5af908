"""Delegating runs to a team server: what the application needs from the connection, and
how it answers a delegated run's questions about the developer's code.

The connection itself (remote/client.py) is an adapter, injected by the language server.
Before anything leaves the machine, the run's context is analysed here with the local
index and redacted; afterwards every answer to the remote agents' tool calls (read a file,
search, symbols, definitions, references, repo map) comes from the local index and is
redacted too, size-limited, and confined to the run's workspace folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from llmgenie.app.folders import FolderRegistry
from llmgenie.config import Settings
from llmgenie.contracts import ids
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.runs import RunEvent, RunRequest
from llmgenie.engine import WorkspaceEngine
from llmgenie.redaction import Redactor, redact_path_text
from llmgenie.wrapper.context_analysis import analyze_context
from llmgenie.wrapper.environment import make_redactor

ConnectionState = Literal["off", "connecting", "connected", "signed_out", "unreachable"]
MAX_FILE_CHARS = 200_000
MAX_RESULTS = 25


class RemoteRuns(Protocol):
    """A team server a run can be delegated to (remote/client.py implements it)."""

    state: ConnectionState

    async def start(
        self, request: RunRequest, context: AnalyzedContext, on_event: Callable[[RunEvent], None]
    ) -> None:
        """Submit the run; its events (with `request.run_id`) arrive through `on_event`
        until its last one. Raises ConnectionError if the server cannot be reached."""
        ...

    async def cancel(self, run_id: str) -> bool:
        """Cancel a run started here (by its local id) or any team run (by its id)."""
        ...

    async def feedback(self, run_id: str, verdict: str, comment: str | None) -> None:
        """Record a user's verdict on a delegated run's answer with the team server."""
        ...

    async def runs(self, limit: int) -> list[dict[str, Any]]:
        """The team's runs, newest first (the team server's records)."""
        ...

    async def connect(self) -> None:
        """Connect in the background (the state says how it went)."""
        ...

    async def close(self) -> None: ...


def analyzed_for_delegation(
    registry: FolderRegistry, settings: Settings, request: RunRequest
) -> AnalyzedContext:
    """The run's context bundle: analysed with the local index, every text redacted."""
    folder = registry.get(Path(request.workspace))
    if folder is None:
        raise InvalidRequest(f"{request.workspace} is not an open workspace folder")
    engine = folder.open_engine()
    context, _summary = analyze_context(request, engine, make_redactor(settings))
    return context


class ToolAnswers:
    """Answers a delegated run's tool calls from the local index of its folder."""

    def __init__(self, registry: FolderRegistry, settings: Callable[[], Settings]) -> None:
        self._registry = registry
        self._settings = settings

    def answer(self, request: RunRequest, method: str, params: dict[str, Any]) -> Any:
        """The JSON answer to one callback (blocking: call it off the event loop)."""
        folder = self._registry.get(Path(request.workspace))
        if folder is None:
            raise InvalidRequest("the run's workspace folder is no longer open")
        redactor = make_redactor(self._settings())
        return answer_callback(folder.open_engine(), redactor, method, params)


def answer_callback(
    engine: WorkspaceEngine, redactor: Redactor, method: str, params: dict[str, Any]
) -> Any:
    """The JSON answer to one agent tool call from `engine`'s index, every text redacted
    (an editor's folder, or a repository of the team index). Blocking."""
    if method == ids.CALLBACK_READ_FILE:
        try:
            text = engine.read_text(str(params.get("path", "")))
        except FileNotFoundError:
            return {"text": None}
        path = str(params.get("path", ""))
        return {"text": redact_path_text(redactor, path, text[:MAX_FILE_CHARS])}
    if method == ids.CALLBACK_SEARCH:
        k = max(1, min(int(params.get("k") or 10), MAX_RESULTS))
        result = engine.search(str(params.get("query", ""))[:4000], k=k, focus=params.get("focus"))
        data = result.model_dump(mode="json")
        for chunk in data["chunks"]:
            if chunk.get("text"):
                chunk["text"] = redact_path_text(redactor, chunk["path"], chunk["text"])
        return data
    if method == ids.CALLBACK_SYMBOLS:
        return {"symbols": [_redacted(s, redactor) for s in engine.symbols(str(params["path"]))]}
    if method == ids.CALLBACK_DEFINITIONS:
        found = engine.find_definitions(str(params.get("name", "")))[:200]
        return {"symbols": [_redacted(s, redactor) for s in found]}
    if method == ids.CALLBACK_REFERENCES:
        refs = engine.find_references(str(params.get("name", "")))[:500]
        return {"references": [dataclasses.asdict(r) for r in refs]}
    if method == ids.CALLBACK_REPO_MAP:
        tokens = max(64, min(int(params.get("tokens") or 1024), 8192))
        return {"map": redactor.redact(engine.repo_map(params.get("focus"), tokens))}
    raise InvalidRequest(f"unknown callback {method}")


def _redacted(symbol: Any, redactor: Redactor) -> dict[str, Any]:
    data = dataclasses.asdict(symbol)
    for key in ("signature", "docstring"):
        if data.get(key):
            data[key] = redactor.redact(data[key])
    return data
