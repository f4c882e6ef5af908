"""workspace/executeCommand for every command, and every custom llmgenie/* request."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from llmgenie.contracts.errors import NO_MODEL_MESSAGE
from tests.lsp.conftest import EditorClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

NO_MODEL = NO_MODEL_MESSAGE


async def test_search_request(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    result = await shared_editor.request("llmgenie/search", {"query": "fetchUser", "k": 3})
    assert result["files"][0]["path"] == "web/client.ts"
    assert result["files"][0]["uri"] == shared_editor.uri("web/client.ts")
    assert result["chunks"][0]["reasons"], "scores are explained"


async def test_localize_without_a_model_is_the_search_ranking_with_a_note(
    shared_editor: EditorClient,
) -> None:
    await shared_editor.wait_indexed()
    result = await shared_editor.request("llmgenie/localize", {"task": "fetch the user by id"})
    assert result["source"] == "search"
    assert result["hits"][0]["path"] == "web/client.ts"
    assert result["hits"][0]["uri"] == shared_editor.uri("web/client.ts")
    assert result["hits"][0]["reasons"] and result["notes"], "ranked by search, and says why"
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request("llmgenie/localize", {"task": ""})
    assert info.value.code == -32602


async def test_removed_duplicate_commands_are_unknown(shared_editor: EditorClient) -> None:
    """chat, search, cancel and health are requests only (docs/protocol.md)."""
    for command in ("llmgenie.search", "llmgenie.chat", "llmgenie.cancelRun"):
        with pytest.raises(JsonRpcException) as info:
            await shared_editor.command(command, {"query": "x", "prompt": "x", "runId": "x"})
        assert info.value.code == -32602 and command in info.value.message


async def test_repo_map_request(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    result = await shared_editor.request(
        "llmgenie/repoMap", {"focus": shared_editor.uri("billing.py")}
    )
    assert "billing.py" in result["map"] and "compute_tax" in result["map"]
    small = await shared_editor.request("llmgenie/repoMap", {"tokens": 64})
    assert len(small["map"]) < len(result["map"])


async def test_pause_resume_and_reindex(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    assert await shared_editor.command("llmgenie.pauseIndexing") == {"paused": True}
    await shared_editor.wait_until(
        lambda: shared_editor.statuses[-1]["indexing"]["state"] == "paused", 10
    )
    assert await shared_editor.command("llmgenie.resumeIndexing") == {"paused": False}
    await shared_editor.wait_until(
        lambda: shared_editor.statuses[-1]["indexing"]["state"] == "idle", 30
    )
    begins_before = len(shared_editor.lsp.progress_reports)
    assert await shared_editor.command("llmgenie.reindex", {}) == {"started": True}
    await shared_editor.wait_until(
        lambda: len(shared_editor.lsp.progress_reports) > begins_before, 30
    )
    await shared_editor.wait_until(
        lambda: shared_editor.statuses[-1]["indexing"]["state"] == "idle", 60
    )
    # idle says how many files are indexed (the status bar's "up to date (3 files)")
    idle = shared_editor.statuses[-1]["indexing"]
    assert (idle["state"], idle["done"], idle["total"]) == ("idle", 3, 3), idle
    health = await shared_editor.request("llmgenie/health", {})
    assert health["index"]["files"] == 3 and health["index"]["symbols"] > 0


async def test_run_crew_without_model_explains_how_to_configure(
    shared_editor: EditorClient,
) -> None:
    arg = {
        "crew": "explain",
        "uri": shared_editor.uri("billing.py"),
        "range": {"start": {"line": 15, "character": 0}, "end": {"line": 18, "character": 0}},
    }
    result = await shared_editor.command("llmgenie.runCrew", arg)
    run_id = result["runId"]
    await shared_editor.wait_until(
        lambda: any(e["runId"] == run_id for e in shared_editor.run_events), 10
    )
    event = next(e for e in shared_editor.run_events if e["runId"] == run_id)
    assert event["kind"] == "error" and event["message"].startswith(NO_MODEL)
    assert event["data"]["reason"] == "no_model_configured"
    assert any(m.message.startswith(NO_MODEL) for m in shared_editor.lsp.messages)
    status = await shared_editor.request("llmgenie/runs/status", {"runId": run_id})
    assert status["status"] == "failed" and status["error"].startswith(NO_MODEL)
    assert status["request"]["path"] == "billing.py"
    assert status["request"]["range"] == {"start_line": 16, "end_line": 18}
    runs = await shared_editor.request("llmgenie/runs/list", {})
    summary = runs["runs"][0]
    assert summary["run_id"] == run_id and "runId" not in summary
    assert summary["crew"] == summary["request"]["crew"] == "explain"
    assert summary["status"] == "failed" and "result" not in summary
    cancelled = await shared_editor.request("llmgenie/runs/cancel", {"runId": run_id})
    assert cancelled == {"cancelled": False}


async def test_chat_request_without_model(shared_editor: EditorClient) -> None:
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request("llmgenie/chat", {"prompt": "hello"})
    assert info.value.code == -32803
    assert info.value.message.startswith(NO_MODEL)
    assert info.value.data["reason"] == "no_model_configured"


async def test_knowledge_request_finds_curated_guidance_then_workspace_docs(
    shared_editor: EditorClient,
) -> None:
    """What the chat's @knowledge mention attaches: the specialists' curated passages first,
    then the workspace's own docs (those with a uri to open)."""
    await shared_editor.wait_indexed()
    result = await shared_editor.request(
        "llmgenie/knowledge", {"query": "billing service: run the container as non-root"}, 60
    )
    sources = [h["source"] for h in result["hits"]]
    assert sources == sorted(sources), "curated knowledge comes before workspace docs"
    curated = [h for h in result["hits"] if h["source"] == "knowledge"]
    assert any(
        h["path"] == "devops/container-images.md" and "non-root" in h["text"].lower()
        for h in curated
    )
    assert all("uri" not in h for h in curated)
    docs = [h for h in result["hits"] if h["source"] == "workspace"]
    assert [h["path"] for h in docs] == ["README.md"]
    assert docs[0]["uri"] == shared_editor.uri("README.md")
    assert "Billing service and web client." in docs[0]["text"]
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request("llmgenie/knowledge", {"query": ""})
    assert info.value.code == -32602


async def test_context_request_for_a_position(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    uri = shared_editor.open("billing.py")
    ctx = await shared_editor.request(
        "llmgenie/context",
        {"textDocument": {"uri": uri}, "position": {"line": 16, "character": 8}},
    )
    assert ctx["path"] == "billing.py" and ctx["line"] == 17
    assert ctx["language"] == "python"
    assert ctx["enclosing_symbol"]["name"] == "compute_tax"


async def test_health_request(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    health = await shared_editor.request("llmgenie/health", {})
    assert health["index"]["files"] == 3
    assert health["index"]["root"] == str(shared_editor.root.resolve())
    assert health["index"]["stale_files"] is None, "health is cheap: no tree walk"
    assert health["indexing"]["state"] == "idle"
    assert health["model"] == {
        "configured": False,
        "model": None,
        "fallbacks": [],
        "suggested": None,
    }
    assert "status" in health["embeddings"]
    assert any("no model configured" in d for d in health["degraded"])
    assert health["version"]


@pytest.mark.parametrize(
    ("command", "arg", "fragment"),
    [
        ("llmgenie.runCrew", {"crew": "astrology"}, "crew"),
        ("llmgenie.runCrew", {"crew": "explain", "uri": "file:///elsewhere/x.py"}, "not inside"),
        ("llmgenie.reindex", "not an object", "expected an object"),
        ("llmgenie.nope", {}, "llmgenie.nope"),
    ],
)
async def test_bad_commands_get_invalid_params(
    shared_editor: EditorClient, command: str, arg: object, fragment: str
) -> None:
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.command(command, arg)
    assert info.value.code == -32602
    assert fragment in info.value.message
    # ...and the server is still fine.
    assert (await shared_editor.request("llmgenie/health", {}))["version"]


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("llmgenie/search", {"k": 3}, "query"),
        ("llmgenie/search", {"query": "x", "k": "many"}, "k"),
        ("llmgenie/runs/cancel", {}, "runId"),
        ("llmgenie/repoMap", {"focus": "https://example.com/x.py"}, "not a local file"),
    ],
)
async def test_bad_requests_get_invalid_params(
    shared_editor: EditorClient, method: str, params: object, fragment: str
) -> None:
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request(method, params)
    assert info.value.code == -32602
    assert fragment in info.value.message
    assert "Traceback" not in str(info.value.data or "")


async def test_unknown_run_status_and_out_of_workspace_uri(shared_editor: EditorClient) -> None:
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request("llmgenie/runs/status", {"runId": "nope"})
    assert info.value.code == -32803 and info.value.data["reason"] == "unknown_run"
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request(
            "llmgenie/context",
            {
                "textDocument": {"uri": "file:///elsewhere/x.py"},
                "position": {"line": 0, "character": 0},
            },
        )
    assert info.value.code == -32602 and "not inside an open workspace folder" in info.value.message


async def test_unknown_method_is_method_not_found(shared_editor: EditorClient) -> None:
    with pytest.raises(JsonRpcException) as info:
        await shared_editor.request("llmgenie/doesNotExist", {})
    assert info.value.code == -32601
    shared_editor.lsp.protocol.notify("llmgenie/unknownNotification", {"x": 1})
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=shared_editor.uri("billing.py")),
        range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[]),
    )
    assert await shared_editor.lsp.text_document_code_action_async(params)
