"""`llmgenie mcp` through the official MCP Python client SDK, against a real subprocess:
the tools an assistant sees, the index answers, a crew run on the scripted model (its
result, progress and audit record), streamable HTTP, and bad input that must not kill it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import mcp.types as mt
import pytest
from mcp.shared.exceptions import McpError

from llmgenie.config import load_settings
from llmgenie.contracts.ids import CREW_IDS
from llmgenie.store.store import AgentStore
from tests.mcp.conftest import http_session, stdio_session
from tests.support.model_server import ModelServer, Reply

TOOLS = {
    "search",
    "repo_map",
    "symbol_context",
    "definitions",
    "references",
    "localize",
    "run_crew",
}


def payload(result: mt.CallToolResult) -> Any:
    """The tool's answer (structured when the tool returns an object), failing on errors."""
    assert not result.isError, result.content
    if result.structuredContent is not None:
        data = result.structuredContent
        return data.get("result", data) if set(data) == {"result"} else data
    block = result.content[0]
    assert isinstance(block, mt.TextContent)
    return block.text


def error_text(result: mt.CallToolResult) -> str:
    assert result.isError, result
    block = result.content[0]
    assert isinstance(block, mt.TextContent)
    return block.text


async def test_lists_the_tools_with_the_crews_as_choices(project: Path) -> None:
    async with stdio_session(project) as session:
        listed = await session.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == TOOLS
    crew_schema = tools["run_crew"].inputSchema["properties"]["crew"]
    assert crew_schema["enum"] == list(CREW_IDS)
    assert tools["search"].inputSchema["required"] == ["query"]


async def test_search_and_repo_map_put_the_right_file_first(project: Path) -> None:
    async with stdio_session(project) as session:
        found = payload(await session.call_tool("search", {"query": "compute_tax", "k": 5}))
        outline = payload(
            await session.call_tool("repo_map", {"focus": "shipping.py", "tokens": 256})
        )
        parcels = payload(await session.call_tool("search", {"query": "Parcel shipping cost"}))
    assert found["files"][0]["path"] == "billing.py"
    assert found["files"][0]["reasons"], "each hit says why it ranked"
    assert found["chunks"][0]["path"] == "billing.py"
    assert "text" not in found["chunks"][0]  # as `llmgenie search --json`
    assert parcels["files"][0]["path"] == "shipping.py"
    assert outline.index("shipping.py") < outline.index("billing.py")
    assert "Parcel" in outline and "compute_tax" in outline


async def test_definitions_references_and_symbol_context(project: Path) -> None:
    async with stdio_session(project) as session:
        defs = payload(await session.call_tool("definitions", {"name": "compute_tax"}))
        refs = payload(await session.call_tool("references", {"name": "compute_tax"}))
        ctx = payload(await session.call_tool("symbol_context", {"name": "Parcel.shipping_cost"}))
    assert [(d["path"], d["start_line"]) for d in defs["definitions"]] == [("billing.py", 6)]
    assert {r["path"] for r in refs["references"]} >= {"billing.py", "shipping.py"}
    definition = ctx["definitions"][0]
    assert definition["symbol"]["path"] == "shipping.py"
    assert definition["text"].lstrip().startswith("def shipping_cost(self) -> float:")
    assert "return base + compute_tax(base)" in definition["text"]


async def test_run_crew_returns_a_diff_reports_progress_and_is_audited(
    project: Path, scripted_llm_env: ModelServer
) -> None:
    docstring = '    """Tax on `amount` at `rate`, rounded to the cent."""\n'
    edit = {
        "path": "billing.py",
        "old_text": "def compute_tax(amount: float, rate: float = TAX_RATE) -> float:\n",
        "new_text": "def compute_tax(amount: float, rate: float = TAX_RATE) -> float:\n"
        + docstring,
        "description": "docstring for compute_tax",
    }
    scripted_llm_env.script(
        Reply.plain(json.dumps({"message": "Documented compute_tax.", "edits": [edit]}))
    )
    progress: list[str | None] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    before = (project / "billing.py").read_text()
    async with stdio_session(project) as session:
        result = payload(
            await session.call_tool(
                "run_crew",
                {"crew": "document", "path": "billing.py", "start_line": 6, "end_line": 7},
                progress_callback=on_progress,
            )
        )
    assert result["message"] == "Documented compute_tax."
    assert result["applied"] is False
    assert (project / "billing.py").read_text() == before  # proposed, not applied
    diff = result["edits"][0]["diff"]
    assert diff.startswith("--- a/billing.py\n+++ b/billing.py\n")
    assert "+" + docstring in diff
    assert progress, "the run reported progress to a client that asked for it"
    sent = json.dumps(scripted_llm_env.chat_requests()[0].body)
    assert "def compute_tax" in sent

    store = AgentStore.existing(project, load_settings(project))
    assert store is not None
    try:
        records = list(store.audit.records(result["run_id"]))
        assert records, "the run left an audit trail"
        assert store.audit.verify_chain().ok
    finally:
        store.close()


async def test_streamable_http_serves_the_same_tools(http_server: str) -> None:
    assert http_server.startswith("http://127.0.0.1:")
    async with http_session(http_server) as session:
        listed = await session.list_tools()
        found = payload(await session.call_tool("search", {"query": "Parcel"}))
    assert {tool.name for tool in listed.tools} == TOOLS
    assert found["files"][0]["path"] == "shipping.py"


async def test_bad_input_is_an_error_result_and_the_server_keeps_serving(project: Path) -> None:
    async with stdio_session(project) as session:
        unknown = await session.call_tool("drop_database", {})
        bad_k = await session.call_tool("search", {"query": "tax", "k": 0})
        outside = await session.call_tool("repo_map", {"focus": "../secret.txt"})
        bad_crew = await session.call_tool("run_crew", {"crew": "hack", "prompt": "x"})
        nameless = await session.call_tool("symbol_context", {"name": "no_such_symbol"})
        no_model = await session.call_tool("run_crew", {"crew": "explain", "path": "billing.py"})
        still = payload(await session.call_tool("definitions", {"name": "invoice_total"}))
    assert "drop_database" in error_text(unknown)
    assert "greater than or equal to 1" in error_text(bad_k)
    assert "outside the workspace" in error_text(outside)
    assert "crew" in error_text(bad_crew)
    assert "no_such_symbol" in error_text(nameless)
    assert "no_model_configured" in error_text(no_model)
    assert still["definitions"][0]["path"] == "billing.py"


async def test_cancelling_the_call_cancels_the_run_and_its_model_call(
    project: Path, scripted_llm_env: ModelServer
) -> None:
    scripted_llm_env.script(Reply.hang())  # the model never answers
    async with stdio_session(project) as session:
        request_id = session._request_id  # the id the next request gets (SDK has no API)
        call = asyncio.create_task(
            session.call_tool("run_crew", {"crew": "explain", "path": "billing.py"})
        )
        await asyncio.to_thread(scripted_llm_env.wait_for_requests, 1, 60)
        await session.send_notification(
            mt.ClientNotification(
                mt.CancelledNotification(
                    params=mt.CancelledNotificationParams(requestId=request_id, reason="user")
                )
            )
        )
        with pytest.raises(McpError):
            await call
        aborted = await asyncio.to_thread(scripted_llm_env.wait_for_disconnect, 30)
        still = payload(await session.call_tool("definitions", {"name": "compute_tax"}))
    assert aborted.path.endswith("/chat/completions")
    assert still["definitions"][0]["path"] == "billing.py"


async def test_localize_follows_the_model_to_the_function_and_keeps_the_search_files(
    project: Path, scripted_llm_env: ModelServer
) -> None:
    scripted_llm_env.script(
        Reply.tool_call("find_references", {"name": "compute_tax"}),
        Reply.plain(
            "```json\n"
            + json.dumps(
                {
                    "locations": [
                        {
                            "path": "shipping.py",
                            "symbol": "shipping_cost",
                            "reason": "taxes the shipping base",
                        },
                        {"path": "customs.py", "reason": "invented"},
                    ]
                }
            )
            + "\n```"
        ),
    )
    async with stdio_session(project) as session:
        found = payload(
            await session.call_tool(
                "localize", {"task": "Parcels are taxed twice on shipping", "max_tool_calls": 3}
            )
        )
    assert found["source"] == "model"
    first = found["hits"][0]
    assert (first["path"], first["symbol"], first["start_line"]) == (
        "shipping.py",
        "Parcel.shipping_cost",
        10,
    )
    assert first["reasons"][0] == {
        "signal": "model",
        "rank": 1,
        "contribution": 1.0,
        "detail": "taxes the shipping base",
    }
    assert all(hit["reasons"] for hit in found["hits"])
    assert found["dropped"][0]["item"]["path"] == "customs.py"
    assert found["tool_calls"] == [
        {"name": "find_references", "arguments": {"name": "compute_tax"}}
    ]
    assert found["model"] == "openai/scripted-model"


async def test_localize_without_a_model_is_the_search_ranking_with_a_note(project: Path) -> None:
    async with stdio_session(project) as session:
        found = payload(await session.call_tool("localize", {"task": "parcel shipping cost"}))
        empty = await session.call_tool("localize", {"task": " "})
    assert found["source"] == "search"
    assert found["hits"][0]["path"] == "shipping.py"
    assert found["hits"][0]["reasons"][0]["signal"] == "search"
    assert any("no model is configured" in note for note in found["notes"])
    assert "task or issue text is required" in error_text(empty)


OPENAI_KEY = "sk-proj-" + "Qm7vX2kR9tLw4Zp8Hn3Jc6Bd1Fs5Gy0A"
DB_PASSWORD = "Winterfell-7Hq2Lm9"


async def test_what_the_tools_answer_holds_no_secret(project: Path) -> None:
    """An MCP client hands every answer to its own model: source text, signatures and
    outlines come back redacted, and a credentials file is withheld."""
    (project / "settings.py").write_text(
        f'OPENAI_KEY = "{OPENAI_KEY}"\n\n\n'
        f'def connect(host: str, password: str = "{DB_PASSWORD}") -> str:\n'
        "    return host\n"
    )
    (project / ".env").write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    async with stdio_session(project) as session:
        answers = [
            payload(await session.call_tool("symbol_context", {"name": name}))
            for name in ("OPENAI_KEY", "connect")
        ]
        answers.append(payload(await session.call_tool("definitions", {"name": "connect"})))
        answers.append(payload(await session.call_tool("repo_map", {"tokens": 4096})))
        answers.append(payload(await session.call_tool("search", {"query": "connect password"})))
    sent = json.dumps(answers)
    assert "connect" in sent and "REDACTED" in sent, sent
    assert OPENAI_KEY not in sent and DB_PASSWORD not in sent, sent
