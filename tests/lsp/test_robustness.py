"""Bad clients: malformed frames and JSON, wrong types, early requests, floods, huge and
vanishing files. The server answers with proper JSON-RPC errors and stays up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lsp.conftest import PY_SOURCE, closed_cleanly
from tests.lsp.rawpipe import RawServer


@pytest.fixture
async def raw(workspace: Path) -> AsyncIterator[RawServer]:
    server = await RawServer.start()
    try:
        yield server
    finally:
        await server.kill()


async def _alive(raw: RawServer) -> None:
    reply = await raw.response(raw.request("llmgenie/health", {}))
    assert "result" in reply, reply


async def _search_until(raw: RawServer, query: str, path: str, timeout: float = 60) -> None:
    """Search until `path` has a chunk defining `query` (indexing may still be running)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await raw.response(raw.request("llmgenie/search", {"query": query}), timeout)
        chunks = reply["result"]["chunks"]
        if any(c["path"] == path and c["symbol"] == query for c in chunks):
            return
        assert asyncio.get_running_loop().time() < deadline, reply
        await asyncio.sleep(0.2)


def _open(raw: RawServer, uri: str, text: str, version: int = 1) -> None:
    raw.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}},
    )


async def test_requests_before_initialize_are_refused(raw: RawServer, workspace: Path) -> None:
    reply = await raw.response(raw.request("llmgenie/health", {}))
    assert reply["error"]["code"] == -32002
    raw.notify("textDocument/didOpen", {"bogus": True})  # dropped, not fatal
    init = await raw.initialize(workspace)
    assert init["result"]["capabilities"]["codeActionProvider"]["resolveProvider"] is True
    again = await raw.response(raw.request("initialize", {"capabilities": {}}))
    assert again["error"]["code"] == -32600
    await _alive(raw)
    assert await raw.shutdown() == 0


async def test_malformed_frames_and_json(raw: RawServer, workspace: Path) -> None:
    await raw.initialize(workspace)
    raw.send(b"{not json at all")
    reply = await raw.response(None)
    assert reply["error"]["code"] == -32700
    raw.send(b"\xff\xfe\x00garbage")
    assert (await raw.response(None))["error"]["code"] == -32700
    raw.send({"hello": "world", "id": 7})  # JSON, but not JSON-RPC
    assert (await raw.response(7))["error"]["code"] == -32600
    raw.send({"jsonrpc": "1.0", "id": 8, "method": "llmgenie/health"})
    assert (await raw.response(8))["error"]["code"] == -32600
    raw.send("[1, 2, 3]")
    assert (await raw.response(None))["error"]["code"] == -32600
    raw.send_bytes(b"Content-Length: banana\r\n\r\n")  # a header we cannot use
    raw.send_bytes(b"X-Nonsense: 1\r\n\r\n")
    await _alive(raw)
    assert await raw.shutdown() == 0


async def test_unknown_methods_and_wrong_param_types(raw: RawServer, workspace: Path) -> None:
    await raw.initialize(workspace)
    assert (await raw.response(raw.request("no/such/method", {})))["error"]["code"] == -32601
    raw.notify("no/such/notification", {})
    bad = raw.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": 5}, "range": "everything", "context": None},
    )
    reply = await raw.response(bad)
    assert reply["error"]["code"] == -32602
    assert "textDocument/codeAction" in reply["error"]["message"]
    bad_search = await raw.response(raw.request("llmgenie/search", {"query": 42}))
    assert bad_search["error"]["code"] == -32602 and "query" in bad_search["error"]["message"]
    raw.notify("textDocument/didChange", {"textDocument": "nope"})  # bad notification: dropped
    await _alive(raw)
    assert await raw.shutdown() == 0


async def test_requests_after_shutdown_are_invalid(raw: RawServer, workspace: Path) -> None:
    await raw.initialize(workspace)
    assert "result" in await raw.response(raw.request("shutdown"))
    late = await raw.response(raw.request("llmgenie/health", {}))
    assert late["error"]["code"] == -32600
    raw.notify("exit")
    assert await asyncio.wait_for(raw.proc.wait(), 30) == 0


async def test_flood_of_did_change_then_search_sees_the_last_text(
    raw: RawServer, workspace: Path
) -> None:
    await raw.initialize(workspace)
    uri = (workspace / "billing.py").as_uri()
    _open(raw, uri, PY_SOURCE)
    for version in range(2, 2002):
        raw.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 0, "character": 0},
                            "end": {"line": 0, "character": 0},
                        },
                        "text": f"# edit {version}\n",
                    }
                ],
            },
        )
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2002},
            "contentChanges": [{"text": PY_SOURCE + "\ndef flood_survivor_marker():\n    pass\n"}],
        },
    )
    reply = await raw.response(
        raw.request("llmgenie/search", {"query": "flood_survivor_marker"}), timeout=60
    )
    chunks = reply["result"]["chunks"]
    assert any(c["path"] == "billing.py" and c["symbol"] == "flood_survivor_marker" for c in chunks)
    assert await raw.shutdown() == 0


async def test_ten_megabyte_file_does_not_freeze_the_server(
    raw: RawServer, workspace: Path
) -> None:
    await raw.initialize(workspace)
    big = workspace / "huge_data.py"
    line = "VALUE = 'x' * 100  # padding padding padding padding padding padding padding\n"
    text = line * (10 * 1024 * 1024 // len(line))
    big.write_text(text)
    uri = big.as_uri()
    _open(raw, uri, text)
    loop = asyncio.get_running_loop()
    started = loop.time()
    actions = await raw.response(
        raw.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}},
                "context": {"diagnostics": []},
            },
        ),
        timeout=60,
    )
    assert actions["result"], "actions are still offered for an oversize file"
    assert loop.time() - started < 30
    await _search_until(raw, "compute_tax", "billing.py")
    assert await raw.shutdown() == 0


async def test_file_deleted_while_open(raw: RawServer, workspace: Path) -> None:
    await raw.initialize(workspace)
    doomed = workspace / "doomed.py"
    doomed.write_text("def doomed_function():\n    return 1\n")
    uri = doomed.as_uri()
    _open(raw, uri, doomed.read_text())
    doomed.unlink()
    raw.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri, "type": 3}]})
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": "def still_editing_after_delete():\n    return 2\n"}],
        },
    )
    found = await raw.response(
        raw.request("llmgenie/search", {"query": "still_editing_after_delete"})
    )
    assert "result" in found, found
    actions = await raw.response(
        raw.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 4}},
                "context": {"diagnostics": []},
            },
        )
    )
    assert actions["result"]
    raw.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    await _alive(raw)
    assert await raw.shutdown() == 0


async def test_stdout_carries_only_protocol_messages(raw: RawServer, workspace: Path) -> None:
    """Every byte on stdout parses as a framed JSON-RPC message (read_message asserts it)."""
    await raw.initialize(workspace)
    await _alive(raw)
    assert "result" in await raw.response(raw.request("shutdown"))
    raw.notify("exit")
    assert await asyncio.wait_for(raw.proc.wait(), 30) == 0
    assert raw.proc.stdout is not None
    rest = await raw.proc.stdout.read()
    while rest:
        header, sep, tail = rest.partition(b"\r\n\r\n")
        assert sep and header.startswith(b"Content-Length: "), rest[:200]
        length = int(header.split(b"\r\n")[0].split(b":")[1])
        json.loads(tail[:length])
        rest = tail[length:]


# -- fuzz: one server, many random params ----------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_METHODS = [
    "llmgenie/search", "llmgenie/context", "llmgenie/runs/status", "llmgenie/runs/cancel",
    "llmgenie/runs/list", "llmgenie/health", "llmgenie/repoMap", "textDocument/codeAction",
    "codeAction/resolve", "workspace/executeCommand",
]  # fmt: skip
_COMMANDS = [
    "llmgenie.runCrew", "llmgenie.reindex", "llmgenie.pauseIndexing", "llmgenie.bogus",
]  # fmt: skip
_KNOWN_CODES = {-32700, -32600, -32601, -32602, -32002, -32800, -32803}


def _fuzz_params() -> st.SearchStrategy[tuple[str, Any]]:
    command = st.builds(
        lambda name, args: {"command": name, "arguments": args},
        st.sampled_from(_COMMANDS),
        st.lists(_json, max_size=2),
    )
    return st.one_of(
        st.tuples(st.sampled_from(_METHODS), _json),
        st.tuples(st.just("workspace/executeCommand"), command),
        st.tuples(
            st.just("llmgenie/search"),
            st.fixed_dictionaries({"query": st.text(max_size=30), "k": _json}),
        ),
    )


async def test_fuzzed_params_always_get_a_proper_answer(workspace: Path) -> None:
    server = await RawServer.start()
    try:
        await server.initialize(workspace)
        cases: list[tuple[str, Any]] = []

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(_fuzz_params())
        def collect(case: tuple[str, Any]) -> None:
            cases.append(case)

        collect()
        for method, params in cases:
            reply = await server.response(server.request(method, params), timeout=60)
            if "error" in reply:
                assert reply["error"]["code"] in _KNOWN_CODES, (method, params, reply)
                assert reply["error"]["message"]
            else:
                assert "result" in reply
        await _alive(server)
        assert await server.shutdown() == 0
    finally:
        await server.kill()


async def test_exit_without_shutdown_still_closes_the_index(
    raw: RawServer, workspace: Path
) -> None:
    from llmgenie.engine import WorkspaceEngine

    await raw.initialize(workspace)
    await _search_until(raw, "compute_tax", "billing.py")
    raw.notify("exit")
    assert await asyncio.wait_for(raw.proc.wait(), 30) == 1  # LSP: exit before shutdown
    assert closed_cleanly(workspace)
    engine = WorkspaceEngine.open(workspace)
    try:
        health = engine.health()
        assert health.files == 3
        assert not any("rebuil" in d for d in health.degraded), health.degraded
    finally:
        engine.close()
