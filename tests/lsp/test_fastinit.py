"""The fast `initialize` answer (sent before pygls has loaded) equals pygls' own answer,
and the session behaves the same afterwards; plus the TCP transport."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.rawpipe import RawServer

CAPABILITY_VARIANTS: list[dict[str, Any]] = [
    {},
    {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
    {"general": {"positionEncodings": ["utf-7"]}, "window": {"workDoneProgress": True}},
]


async def _initialize(env: dict[str, str], caps: dict[str, Any], root: Path) -> dict[str, Any]:
    server = await RawServer.start(env)
    try:
        reply = await server.response(
            server.request(
                "initialize", {"processId": None, "capabilities": caps, "rootUri": root.as_uri()}
            )
        )
        server.notify("initialized", {})
        health = await server.response(server.request("llmgenie/health", {}))
        assert health["result"]["version"], health
        assert await server.shutdown() == 0
        result: dict[str, Any] = reply["result"]
        return result
    finally:
        await server.kill()


@pytest.mark.parametrize("caps", CAPABILITY_VARIANTS)
async def test_fast_initialize_matches_pygls(caps: dict[str, Any], workspace: Path) -> None:
    fast = await _initialize({}, caps, workspace)
    slow = await _initialize({"LLMGENIE_LSP_FASTINIT": "0"}, caps, workspace)
    assert fast == slow


async def test_session_works_after_a_fast_initialize(workspace: Path) -> None:
    server = await RawServer.start()
    try:
        await server.initialize(workspace)
        uri = (workspace / "billing.py").as_uri()
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "def only_in_buffer_zz():\n    pass\n",
                }
            },
        )
        reply = await server.response(
            server.request("llmgenie/search", {"query": "only_in_buffer_zz"})
        )
        chunks = reply["result"]["chunks"]
        assert any(c["path"] == "billing.py" and c["symbol"] == "only_in_buffer_zz" for c in chunks)
        assert await server.shutdown() == 0
    finally:
        await server.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_tcp_transport(workspace: Path) -> None:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "llmgenie", "serve", "--tcp", f"127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                assert asyncio.get_running_loop().time() < deadline, "server never listened"
                await asyncio.sleep(0.2)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "rootUri": workspace.as_uri()},
            }
        ).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        reply = json.loads(await reader.readexactly(length))
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"]["name"] == "llmgenie"
        writer.close()
        assert proc.stdout is not None
        assert await proc.stdout.read() == b"", "nothing but nothing on stdout in TCP mode"
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_websocket_transport(workspace: Path) -> None:
    from websockets.asyncio.client import connect

    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "llmgenie", "serve", "--ws", f"127.0.0.1:{port}",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            try:
                ws = await connect(f"ws://127.0.0.1:{port}")
                break
            except OSError:
                assert asyncio.get_running_loop().time() < deadline, "server never listened"
                await asyncio.sleep(0.2)
        async with ws:
            init = {"capabilities": {}, "rootUri": workspace.as_uri()}
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
            )
            reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
            assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "llmgenie"
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "id": 2, "method": "llmgenie/health", "params": {}})
            )
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message.get("id") == 2:
                    break
            assert message["result"]["version"]
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
