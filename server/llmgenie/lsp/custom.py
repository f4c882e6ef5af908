"""Custom requests under llmgenie/… (schemas in docs/protocol.md)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from llmgenie.lsp import queries
from llmgenie.lsp.errors import RequestFailed
from llmgenie.lsp.params import ChatArgs, ContextArgs, NoArgs, RunIdArgs, SearchArgs, parse_params
from llmgenie.lsp.run_requests import build_run_request
from llmgenie.lsp.runs import RunFailed

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer


def register(server: LlmgenieServer) -> None:
    @server.feature("llmgenie/chat")
    async def chat(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        """Stream the answer as runEvent deltas; $/cancelRequest stops the run end to end."""
        a = parse_params(ChatArgs, params, "llmgenie/chat")
        request = build_run_request(
            ls.session, "chat", uri=a.uri, rng=a.range, prompt=a.prompt, history=a.history
        )
        runs = ls.session.runs
        run_id = await runs.start(request, apply_results=False)
        try:
            result = await runs.wait(run_id)
        except asyncio.CancelledError:
            # The client cancelled this request: stop the run (and its model call) too.
            await asyncio.shield(runs.cancel(run_id))
            raise
        except RunFailed as exc:
            if exc.reason == "cancelled":
                return {"runId": run_id, "text": runs.partial_text(run_id), "cancelled": True}
            raise RequestFailed(str(exc), exc.reason, runId=run_id) from exc
        return {"runId": run_id, "text": result.message, "model": result.model}

    @server.feature("llmgenie/search")
    async def search(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        return await queries.search(ls.session, parse_params(SearchArgs, params, "llmgenie/search"))

    @server.feature("llmgenie/context")
    async def context(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        return await queries.context(
            ls.session, parse_params(ContextArgs, params, "llmgenie/context")
        )

    @server.feature("llmgenie/runs/list")
    async def runs_list(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        parse_params(NoArgs, params, "llmgenie/runs/list")
        records = await ls.session.runs.records()
        return {"runs": [_summary(r.model_dump(mode="json")) for r in records]}

    @server.feature("llmgenie/runs/status")
    async def runs_status(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        a = parse_params(RunIdArgs, params, "llmgenie/runs/status")
        record = await ls.session.runs.record(a.run_id)
        if record is None:
            raise RequestFailed(f"Unknown run {a.run_id}", "unknown_run", runId=a.run_id)
        return record.model_dump(mode="json")

    @server.feature("llmgenie/runs/cancel")
    async def runs_cancel(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        a = parse_params(RunIdArgs, params, "llmgenie/runs/cancel")
        return {"cancelled": await ls.session.runs.cancel(a.run_id)}

    @server.feature("llmgenie/health")
    async def health(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
        parse_params(NoArgs, params, "llmgenie/health")
        return await ls.session.health()


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    """A RunRecord without the bulky result body (runs/status has everything), plus
    convenience keys: runId, crew, path, and the result's edit/finding counts."""
    result = record.pop("result", None) or {}
    request = record["request"]
    return {
        **record,
        "runId": record["run_id"],
        "crew": request["crew"],
        "path": request.get("path"),
        "message": (result.get("message") or "")[:200],
        "edits": len(result.get("edits", [])),
        "findings": len(result.get("findings", [])),
    }
