"""Hostile bytes on the raw pipe of the real `llmgenie serve --stdio` process: huge frames,
broken framing, deep nesting, wrong types and out-of-range values. Every request gets an
answer without a Python traceback, and the connection keeps serving."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.rawpipe import RawServer


@pytest.fixture
async def raw(workspace: Path) -> AsyncIterator[RawServer]:
    server = await RawServer.start()
    try:
        await server.initialize(workspace)
        yield server
    finally:
        await server.kill()


async def _alive(raw: RawServer) -> None:
    reply = await raw.response(raw.request("llmgenie/health", {}))
    assert "result" in reply, reply


def _no_traceback(reply: dict[str, Any]) -> None:
    text = json.dumps(reply)
    assert "traceback" not in text.lower() and 'File \\"' not in text, reply


async def _replies(raw: RawServer, ids: set[int]) -> dict[int, dict[str, Any]]:
    """The responses to all of `ids`, in whatever order they come."""
    found: dict[int, dict[str, Any]] = {}
    while ids - found.keys():
        message = await raw.read_message()
        if message.get("id") in ids and "method" not in message:
            found[message["id"]] = message
    return found


async def test_a_huge_content_length_is_refused_and_the_connection_kept(raw: RawServer) -> None:
    raw.send_bytes(b"Content-Length: 1000000000000\r\n\r\n" + b'{"jsonrpc": "2.0", "id": 1, ')
    reply = await raw.response(None)
    assert reply["error"]["code"] == -32600
    assert "1000000000000 bytes exceeds" in reply["error"]["message"]
    await _alive(raw)
    assert await raw.shutdown() == 0


async def test_the_frame_limit_is_configurable(workspace: Path) -> None:
    raw = await RawServer.start({"LLMGENIE_LSP_MAX_FRAME_BYTES": "4096"})
    try:
        await raw.initialize(workspace)
        raw.request("llmgenie/search", {"query": "x" * 5000})
        refused = await raw.response(None)
        assert "4096-byte limit" in refused["error"]["message"]
        await _alive(raw)
    finally:
        await raw.kill()


async def test_framing_errors_without_a_newline_are_recovered(raw: RawServer) -> None:
    raw.send_bytes(b"garbage with no newline")  # glued to the next header
    await _alive(raw)
    raw.send_bytes(b"Content-Length: 60\r\n\r\n{}")  # announces more than it sends
    health = raw.request("llmgenie/health", {})  # its header fills the short body
    assert (await raw.response(None))["error"]["code"] == -32700
    assert "result" in await raw.response(health)
    await _alive(raw)


async def test_json_nested_fifty_thousand_deep_gets_a_parse_error(raw: RawServer) -> None:
    raw.send("[" * 50_000 + "]" * 50_000)
    reply = await raw.response(None)
    assert reply["error"]["code"] == -32700
    assert "nested too deeply" in reply["error"]["message"]
    raw.send('{"jsonrpc": "2.0", "id": 5, "method": "llmgenie/health", "params": ' + "{" * 50_000)
    assert (await raw.response(None))["error"]["code"] == -32700
    await _alive(raw)


async def test_wrong_types_and_values_get_errors_without_tracebacks(
    raw: RawServer, workspace: Path
) -> None:
    raw.send({"jsonrpc": "2.0", "id": 1, "method": 5})
    reply = await raw.response(1)
    assert reply["error"]["code"] == -32600 and "method" in reply["error"]["message"]
    _no_traceback(reply)
    raw.send({"jsonrpc": "2.0", "id": 2, "method": ["llmgenie/health"]})
    _no_traceback(await raw.response(2))
    uri = (workspace / "billing.py").as_uri()
    huge = 2**63
    for params in (
        {"textDocument": {"uri": uri}, "position": {"line": huge, "character": 0}},
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": huge}},
    ):
        reply = await raw.response(raw.request("llmgenie/context", params))
        assert reply["error"]["code"] == -32602, reply
        assert "position" in reply["error"]["message"]
        _no_traceback(reply)
    run = {
        "command": "llmgenie.runCrew",
        "arguments": [{"crew": "explain", "uri": uri, "range": _range(huge)}],
    }
    reply = await raw.response(raw.request("workspace/executeCommand", run))
    assert reply["error"]["code"] == -32602, reply
    _no_traceback(reply)
    bad_uri = {"textDocument": {"uri": "file:///tmp/a%00b.py"}, "position": _range(0)["start"]}
    reply = await raw.response(raw.request("llmgenie/context", bad_uri))
    assert reply["error"]["code"] == -32602, reply
    _no_traceback(reply)
    await _alive(raw)


def _range(line: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}


async def test_health_without_params_is_answered(raw: RawServer) -> None:
    raw.send({"jsonrpc": "2.0", "id": 9, "method": "llmgenie/health"})
    reply = await raw.response(9)
    assert "result" in reply, reply
    assert "indexing" in reply["result"]


async def test_a_forty_kilobyte_query_is_refused_and_a_long_one_does_not_freeze(
    raw: RawServer,
) -> None:
    huge = await raw.response(raw.request("llmgenie/search", {"query": "ab-" * 13_600}))
    assert huge["error"]["code"] == -32602
    assert "the limit is 20000" in huge["error"]["message"]
    # Just under the limit, the worst case for the query analyser: one long run of word
    # characters. It is answered, and so is a request sent right behind it.
    search = raw.request("llmgenie/search", {"query": "ab-" * 6_600})
    health = raw.request("llmgenie/health", {})
    replies = await _replies(raw, {search, health})
    assert "result" in replies[search] and "result" in replies[health]


async def test_a_huge_first_frame_is_refused_before_initialize(workspace: Path) -> None:
    """The first frame is read by the fast-initialize path, before pygls is loaded."""
    raw = await RawServer.start()
    try:
        raw.send_bytes(b"Content-Length: 1000000000000\r\n\r\n")
        refused = await raw.response(None)
        assert "1000000000000 bytes exceeds" in refused["error"]["message"]
        init = await raw.initialize(workspace)
        assert "capabilities" in init["result"]
        await _alive(raw)
    finally:
        await raw.kill()


async def _indexed(raw: RawServer, timeout: float = 60) -> dict[str, Any]:
    """Read until a status says indexing finished after having started; that status."""
    started = False
    while True:
        message = await raw.read_message(timeout)
        if message.get("method") != "llmgenie/status":
            if "id" in message and "method" in message:
                raw.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            continue
        state = message["params"]["indexing"]["state"]
        started = started or state == "indexing"
        if started and state == "idle":
            status: dict[str, Any] = message["params"]
            return status


async def test_a_file_name_that_is_not_utf8_leaves_the_rest_indexed(workspace: Path) -> None:
    folder = os.fsencode(workspace)
    with open(folder + b"/bad\xff\xfename.py", "wb") as out:
        out.write(b"def compute_tax_bad():\n    return 0\n")
    raw = await RawServer.start()
    try:
        await raw.initialize(workspace)
        await _indexed(raw)
        found = await raw.response(raw.request("llmgenie/search", {"query": "compute_tax"}))
        assert "result" in found, found
        assert "billing.py" in {hit["path"] for hit in found["result"]["chunks"]}
        await _alive(raw)
        assert await raw.shutdown() == 0
    finally:
        await raw.kill()
