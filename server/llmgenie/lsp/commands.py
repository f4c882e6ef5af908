"""workspace/executeCommand: the command palette. Each command takes one argument object."""

from __future__ import annotations

from typing import Any

from llmgenie.lsp import queries
from llmgenie.lsp.params import (
    ChatArgs,
    NoArgs,
    RepoMapArgs,
    RunCrewArgs,
    RunIdArgs,
    SearchArgs,
    command_argument,
    parse_params,
)
from llmgenie.lsp.run_requests import build_run_request

# A runtime import: pygls resolves the handlers' annotations to inject the server.
from llmgenie.lsp.server import LlmgenieServer

COMMANDS = [
    "llmgenie.chat",
    "llmgenie.runCrew",
    "llmgenie.search",
    "llmgenie.repoMap",
    "llmgenie.reindex",
    "llmgenie.pauseIndexing",
    "llmgenie.resumeIndexing",
    "llmgenie.cancelRun",
    "llmgenie.indexHealth",
]


def register(server: LlmgenieServer) -> None:
    @server.command("llmgenie.chat")
    async def chat(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        a = parse_params(ChatArgs, command_argument(args, "llmgenie.chat"), "llmgenie.chat")
        request = build_run_request(
            ls.session, "chat", uri=a.uri, rng=a.range, prompt=a.prompt, history=a.history
        )
        return {"runId": await ls.session.runs.start(request, apply_results=False)}

    @server.command("llmgenie.runCrew")
    async def run_crew(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        a = parse_params(
            RunCrewArgs, command_argument(args, "llmgenie.runCrew"), "llmgenie.runCrew"
        )
        request = build_run_request(
            ls.session, a.crew, uri=a.uri, rng=a.range, prompt=a.prompt, diagnostic=a.diagnostic
        )
        return {"runId": await ls.session.runs.start(request, apply_results=True)}

    @server.command("llmgenie.search")
    async def search(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        a = parse_params(SearchArgs, command_argument(args, "llmgenie.search"), "llmgenie.search")
        return await queries.search(ls.session, a)

    @server.command("llmgenie.repoMap")
    async def repo_map(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        a = parse_params(
            RepoMapArgs, command_argument(args, "llmgenie.repoMap"), "llmgenie.repoMap"
        )
        return await queries.repo_map(ls.session, a)

    @server.command("llmgenie.reindex")
    def reindex(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        parse_params(NoArgs, command_argument(args, "llmgenie.reindex"), "llmgenie.reindex")
        ls.session.indexing.rebuild()
        return {"started": True}

    @server.command("llmgenie.pauseIndexing")
    def pause(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        parse_params(
            NoArgs, command_argument(args, "llmgenie.pauseIndexing"), "llmgenie.pauseIndexing"
        )
        return {"paused": ls.session.indexing.pause()}

    @server.command("llmgenie.resumeIndexing")
    def resume(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        parse_params(
            NoArgs, command_argument(args, "llmgenie.resumeIndexing"), "llmgenie.resumeIndexing"
        )
        return {"paused": ls.session.indexing.resume()}

    @server.command("llmgenie.cancelRun")
    async def cancel_run(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        a = parse_params(
            RunIdArgs, command_argument(args, "llmgenie.cancelRun"), "llmgenie.cancelRun"
        )
        return {"cancelled": await ls.session.runs.cancel(a.run_id)}

    @server.command("llmgenie.indexHealth")
    async def index_health(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
        parse_params(NoArgs, command_argument(args, "llmgenie.indexHealth"), "llmgenie.indexHealth")
        return await queries.index_health(ls.session)
