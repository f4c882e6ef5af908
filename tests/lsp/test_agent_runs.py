"""Runs through the language server with a real RunService, CrewAI and litellm, against
the scripted OpenAI-compatible model server on 127.0.0.1 (configured by initializationOptions).
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import EditorClient, start_editor
from tests.support.model_server import ModelServer, Reply

MODEL = "openai/scripted-model"
DOCSTRING = '    """Return `amount` taxed at `rate`, rounded up to the cent."""\n'


def final(
    message: str,
    edits: list[dict[str, Any]] | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> Reply:
    """The crews' final answer format (a CrewReport as JSON)."""
    return Reply.plain(
        json.dumps({"message": message, "edits": edits or [], "findings": findings or []})
    )


@pytest.fixture
async def agent_editor(workspace: Path, model_server: ModelServer) -> AsyncIterator[EditorClient]:
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    async with start_editor(workspace, options=options, env=env) as editor:
        await editor.wait_indexed()
        yield editor


def _events(editor: EditorClient, run_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        e for e in editor.run_events if e["runId"] == run_id and (kind is None or e["kind"] == kind)
    ]


def _range(start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}}


async def test_chat_streams_deltas_and_returns_the_answer(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    model_server.script(Reply.stream(["`compute_tax` ", "rounds tax ", "up to the cent."]))
    result = await agent_editor.request(
        "llmgenie/chat",
        {
            "prompt": "What does compute_tax do?",
            "uri": agent_editor.uri("billing.py"),
            "range": _range(15, 18),
        },
        timeout=120,
    )
    assert result["text"] == "`compute_tax` rounds tax up to the cent."
    assert result["model"] == MODEL
    deltas = "".join(e["message"] for e in _events(agent_editor, result["runId"], "delta"))
    assert deltas == result["text"]
    sent = json.dumps(model_server.chat_requests()[0].body)
    assert "What does compute_tax do?" in sent and "def compute_tax" in sent


async def test_chat_answers_with_the_model_picked_for_it(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    """The chat's model picker: one turn with another model, no restart, no settings change."""
    model_server.script(Reply.stream(["picked"]), Reply.stream(["configured"]))
    picked = await agent_editor.request(
        "llmgenie/chat", {"prompt": "Hi", "model": "openai/picked-model"}, timeout=120
    )
    assert picked["model"] == "openai/picked-model" and picked["text"] == "picked"
    again = await agent_editor.request("llmgenie/chat", {"prompt": "Hi"}, timeout=120)
    assert again["model"] == MODEL and again["text"] == "configured"
    sent = [r.body["model"] for r in model_server.chat_requests()]
    assert sent == ["picked-model", "scripted-model"]


async def test_a_picked_model_answers_when_none_is_configured(
    workspace: Path, model_server: ModelServer
) -> None:
    """A local model the picker found (e.g. a running Ollama) works with no llmgenie.model."""
    options = {"apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    async with start_editor(workspace, options=options, env=env) as editor:
        with pytest.raises(JsonRpcException):
            await editor.request("llmgenie/chat", {"prompt": "Hi"}, timeout=60)
        model_server.script(Reply.stream(["hello"]))
        result = await editor.request(
            "llmgenie/chat", {"prompt": "Hi", "model": "openai/local-model"}, timeout=120
        )
        assert result == {"runId": result["runId"], "text": "hello", "model": "openai/local-model"}


async def test_localize_follows_the_model_to_a_function(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    located = {"path": "billing.py", "symbol": "compute_tax", "reason": "rounds the tax up"}
    model_server.script(
        Reply.tool_call("find_definitions", {"name": "compute_tax"}),
        Reply.plain(json.dumps({"locations": [located]})),
    )
    result = await agent_editor.request(
        "llmgenie/localize", {"task": "Tax is rounded up to the cent"}, timeout=120
    )
    assert result["source"] == "model" and result["model"] == MODEL
    first = result["hits"][0]
    assert (first["path"], first["symbol"], first["uri"]) == (
        "billing.py",
        "compute_tax",
        agent_editor.uri("billing.py"),
    )
    assert first["start_line"] == 16 and first["reasons"][0]["detail"] == "rounds the tax up"
    called = {"name": "find_definitions", "arguments": {"name": "compute_tax"}}
    assert result["tool_calls"] == [called]


async def test_cancel_request_stops_the_chat_and_its_model_call(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    model_server.script(Reply.stream(["first ", "second ", "third ", "fourth"], delay=1.5))
    msg_id = "chat-to-cancel"
    pending = asyncio.ensure_future(
        agent_editor.lsp.protocol.send_request_async(
            "llmgenie/chat", {"prompt": "Explain"}, msg_id=msg_id
        )
    )
    await agent_editor.wait_until(
        lambda: any(e["kind"] == "delta" for e in agent_editor.run_events), 120, "first delta"
    )
    run_id = agent_editor.run_events[-1]["runId"]
    agent_editor.lsp.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(pending, 30)
    assert info.value.code == -32800
    disconnect = await asyncio.to_thread(model_server.wait_for_disconnect, 30)
    assert disconnect.chunks_sent < 4, "the in-flight model call was aborted"
    await agent_editor.wait_until(lambda: bool(_events(agent_editor, run_id, "error")), 30)
    record = await agent_editor.request("llmgenie/runs/status", {"runId": run_id})
    assert record["status"] == "cancelled"


async def test_runs_cancel_ends_the_chat_with_its_partial_answer(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    model_server.script(Reply.stream(["Partial ", "answer ", "that ", "never ends"], delay=1.5))
    pending = asyncio.ensure_future(
        agent_editor.request("llmgenie/chat", {"prompt": "Explain"}, 120)
    )
    await agent_editor.wait_until(
        lambda: any(e["kind"] == "delta" for e in agent_editor.run_events), 120, "first delta"
    )
    run_id = agent_editor.run_events[-1]["runId"]
    assert await agent_editor.request("llmgenie/runs/cancel", {"runId": run_id}) == {
        "cancelled": True
    }
    result = await asyncio.wait_for(pending, 60)
    assert result["runId"] == run_id and result["cancelled"] is True
    assert result["text"].startswith("Partial ") and "never ends" not in result["text"]


async def test_document_action_round_trips_through_apply_edit(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    editor = agent_editor
    uri = editor.open("billing.py")
    model_server.script(
        final(
            "Added a docstring to `compute_tax`.",
            edits=[
                {
                    "path": "billing.py",
                    "old_text": "def compute_tax(amount, rate=0.2):\n",
                    "new_text": "def compute_tax(amount, rate=0.2):\n" + DOCSTRING,
                    "description": "docstring for compute_tax",
                }
            ],
        )
    )
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(16, 4), end=types.Position(16, 4)),
        context=types.CodeActionContext(diagnostics=[]),
    )
    actions = await editor.lsp.text_document_code_action_async(params)
    document = next(a for a in actions if a.title == "llmgenie: Document `compute_tax`")
    resolved = await editor.lsp.code_action_resolve_async(document)
    assert resolved.command is not None
    started = await editor.command(resolved.command.command, resolved.command.arguments[0])
    run_id = started["runId"]
    await editor.wait_until(lambda: bool(editor.applied_edits), 120, "workspace/applyEdit")
    applied = editor.applied_edits[0]
    assert applied.label == "llmgenie: document"
    # The editor asks before applying: every change carries a needsConfirmation annotation.
    assert applied.edit.change_annotations is not None
    [annotation] = applied.edit.change_annotations.values()
    assert annotation.needs_confirmation is True and "compute_tax" in (annotation.description or "")
    assert not editor.message_requests, "an editor that confirms annotated edits is not asked twice"
    [doc_edit] = applied.edit.document_changes
    assert doc_edit.text_document.uri == uri and doc_edit.text_document.version == 1
    [text_edit] = doc_edit.edits
    assert (text_edit.range.start.line, text_edit.range.start.character) == (15, 0)
    assert (text_edit.range.end.line, text_edit.range.end.character) == (16, 0)
    # Apply it like the editor would, and check the result is the documented function.
    lines = (editor.root / "billing.py").read_text().splitlines(keepends=True)
    edited = "".join(lines[:15]) + text_edit.new_text + "".join(lines[16:])
    func = next(n for n in ast.parse(edited).body if getattr(n, "name", "") == "compute_tax")
    assert ast.get_docstring(func) == "Return `amount` taxed at `rate`, rounded up to the cent."
    await editor.wait_until(
        lambda: any(e["message"] == "edit applied" for e in _events(editor, run_id, "status")), 30
    )
    result = _events(editor, run_id, "result")[0]
    assert result["data"]["result"]["edits"][0]["path"] == "billing.py"
    await editor.wait_until(
        lambda: any(m.message.startswith("llmgenie document") for m in editor.lsp.messages),
        30,
        "the run's message",
    )


async def test_an_editor_without_change_annotations_is_asked_before_an_edit(
    workspace: Path, model_server: ModelServer
) -> None:
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    edit = {
        "path": "billing.py",
        "old_text": "def compute_tax(amount, rate=0.2):\n",
        "new_text": "def compute_tax(amount, rate=0.2):\n" + DOCSTRING,
    }
    async with start_editor(
        workspace, options=options, env=env, change_annotations=False
    ) as editor:
        await editor.wait_indexed()
        uri = editor.open("billing.py")
        args = {"crew": "document", "uri": uri, "range": _range(15, 16)}

        editor.message_request_answer = "Discard"
        model_server.script(final("Documented.", edits=[edit]))
        declined = (await editor.command("llmgenie.runCrew", args))["runId"]
        await editor.wait_until(
            lambda: any(e["message"] == "edit rejected" for e in _events(editor, declined)), 120
        )
        [asked] = editor.message_requests
        assert "billing.py" in asked.message and [a.title for a in asked.actions or []] == [
            "Apply",
            "Discard",
        ]
        assert editor.applied_edits == [], "a declined edit is never sent"

        editor.message_request_answer = "Apply"
        model_server.script(final("Documented.", edits=[edit]))
        accepted = (await editor.command("llmgenie.runCrew", args))["runId"]
        await editor.wait_until(lambda: bool(editor.applied_edits), 120, "workspace/applyEdit")
        assert len(editor.message_requests) == 2
        assert editor.applied_edits[0].edit.change_annotations is None
        await editor.wait_until(
            lambda: any(e["message"] == "edit applied" for e in _events(editor, accepted)), 30
        )


async def test_findings_become_llmgenie_diagnostics(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    editor = agent_editor
    uri = editor.open("billing.py")
    model_server.script(
        final(
            "One hot spot.",
            findings=[
                {
                    "path": "billing.py",
                    "start_line": 13,
                    "end_line": 13,
                    "severity": "warning",
                    "rule": "PERF-generator-sum",
                    "message": "Recomputes the total on every call.",
                    "fix": "Cache the total.",
                }
            ],
        )
    )
    await editor.command(
        "llmgenie.runCrew", {"crew": "performance", "uri": uri, "range": _range(11, 13)}
    )
    await editor.wait_until(lambda: uri in editor.lsp.diagnostics, 120, "publishDiagnostics")
    [diag] = editor.lsp.diagnostics[uri]
    assert diag.source == "llmgenie" and diag.code == "PERF-generator-sum"
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert diag.range.start.line == 12 and diag.range.end.line == 12
    assert diag.range.end.character == len(
        "        return sum(price * qty for price, qty in self.items)"
    )
    assert "Fix: Cache the total." in diag.message


async def test_runs_survive_an_editor_restart(workspace: Path, model_server: ModelServer) -> None:
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    model_server.script(final("`Invoice` holds line items and sums them."))
    async with start_editor(workspace, options=options, env=env) as editor:
        uri = editor.uri("billing.py")
        started = await editor.command("llmgenie.runCrew", {"crew": "explain", "uri": uri})
        run_id = started["runId"]
        await editor.wait_until(lambda: bool(_events(editor, run_id, "result")), 120, "result")
    async with start_editor(workspace) as editor:
        runs = await editor.request("llmgenie/runs/list", {}, timeout=120)
        summary = next(r for r in runs["runs"] if r["run_id"] == run_id)
        assert (summary["crew"], summary["status"], summary["path"]) == (
            "explain",
            "succeeded",
            "billing.py",
        )
        record = await editor.request("llmgenie/runs/status", {"runId": run_id})
        assert record["result"]["message"] == "`Invoice` holds line items and sums them."


async def test_edit_made_stale_by_typing_is_reported_not_applied(
    workspace: Path, model_server: ModelServer
) -> None:
    """The user renames the function while the crew works: its edit must not be applied."""
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    # A long debounce keeps the rename in the editor buffer only, so the crew (which reads
    # the index's copy) still validates its edit against the old text.
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LLMGENIE_INDEX__DEBOUNCE_MS": "600000"}
    async with start_editor(workspace, options=options, env=env) as editor:
        await editor.wait_indexed()
        uri = editor.open("billing.py")
        edit = {
            "path": "billing.py",
            "old_text": "def compute_tax(amount, rate=0.2):\n",
            "new_text": "def compute_tax(amount, rate=0.2):\n" + DOCSTRING,
        }
        model_server.script(
            Reply.slow(json.dumps({"message": "Documented.", "edits": [edit], "findings": []}), 3.0)
        )
        started = await editor.command(
            "llmgenie.runCrew", {"crew": "document", "uri": uri, "range": _range(15, 18)}
        )
        run_id = started["runId"]
        editor.change(
            uri,
            "compute_vat",
            types.Range(start=types.Position(15, 4), end=types.Position(15, 15)),
        )
        await editor.wait_until(
            lambda: any(
                e["data"].get("reason") == "edit_failed" for e in _events(editor, run_id, "error")
            ),
            120,
            "edit_failed",
        )
        assert editor.applied_edits == []
        await editor.wait_until(
            lambda: any("no longer in the file" in m.message for m in editor.lsp.messages),
            30,
            "the message that the edit failed",
        )


async def test_runs_cancel_request_stops_a_running_crew(
    agent_editor: EditorClient, model_server: ModelServer
) -> None:
    editor = agent_editor
    model_server.script(Reply.hang())
    started = await editor.command(
        "llmgenie.runCrew",
        {"crew": "explain", "uri": editor.uri("billing.py"), "range": _range(15, 18)},
    )
    run_id = started["runId"]
    await asyncio.to_thread(model_server.wait_for_requests, 1, 120)
    cancelled = await editor.request("llmgenie/runs/cancel", {"runId": run_id})
    assert cancelled == {"cancelled": True}
    await editor.wait_until(lambda: bool(_events(editor, run_id, "error")), 60, "run end")
    assert _events(editor, run_id, "error")[-1]["data"]["status"] == "cancelled"
    await asyncio.to_thread(model_server.wait_for_disconnect, 30)
    runs = await editor.request("llmgenie/runs/list", {})
    assert next(r for r in runs["runs"] if r["run_id"] == run_id)["status"] == "cancelled"


def _spans(traces: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in traces.glob("*.jsonl") for line in f.read_text().splitlines()]


async def test_a_run_joins_the_editor_s_trace(
    workspace: Path, model_server: ModelServer, tmp_path: Path
) -> None:
    """The editor sends its trace context with runCrew; the run's spans continue it."""
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    traces = tmp_path / "traces"
    # This test process imported CrewAI, which sets OTEL_SDK_DISABLED: an editor's server
    # runs without it.
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LLMGENIE_TRACE_DIR": str(traces),
        "OTEL_SDK_DISABLED": "false",
    }
    trace_id, editor_span = "5bd66ef5095369c7b0d1f8f4bd33716a", "c532cb4098ac3dd2"
    model_server.script(final("`Invoice` holds line items and sums them."))
    async with start_editor(workspace, options=options, env=env) as editor:
        started = await editor.command(
            "llmgenie.runCrew",
            {
                "crew": "explain",
                "uri": editor.uri("billing.py"),
                "remote": False,
                "traceparent": f"00-{trace_id}-{editor_span}-01",
            },
        )
        run_id = started["runId"]
        await editor.wait_until(lambda: bool(_events(editor, run_id, "result")), 120, "result")
        # A span is written when it ends: run.execute ends just after the result is sent.
        await editor.wait_until(
            lambda: any(s["name"] == "run.execute" for s in _spans(traces)), 30, "the span"
        )
    spans = _spans(traces)
    [execute] = [s for s in spans if s["name"] == "run.execute"]
    assert execute["attributes"]["llmgenie.run_id"] == run_id
    assert (execute["trace_id"], execute["parent_id"]) == (trace_id, editor_span)
    assert any(s["name"] == "model.call" and s["trace_id"] == trace_id for s in spans)


async def test_a_malformed_traceparent_is_invalid_params(agent_editor: EditorClient) -> None:
    with pytest.raises(JsonRpcException) as raised:
        await agent_editor.command(
            "llmgenie.runCrew", {"crew": "explain", "traceparent": "not-a-trace"}
        )
    assert raised.value.code == -32602, raised.value
