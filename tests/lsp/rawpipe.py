"""A raw JSON-RPC pipe to the server process: send arbitrary bytes, read framed replies."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from tests.lsp.conftest import SERVER_COMMAND


class RawServer:
    """The real server over a pipe, with no client library in between."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._next_id = 1000
        self.notifications: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    @classmethod
    async def start(
        cls, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            *SERVER_COMMAND,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        return cls(proc)

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, message: dict[str, Any] | str | bytes) -> None:
        body = (
            message
            if isinstance(message, bytes)
            else (message.encode() if isinstance(message, str) else json.dumps(message).encode())
        )
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any = None) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    async def read_message(self, timeout: float = 30) -> dict[str, Any]:
        """One framed message from stdout (the stream must contain nothing else)."""
        assert self.proc.stdout is not None
        headers: dict[str, str] = {}
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            if not line:
                raise EOFError("server closed stdout")
            if line == b"\r\n":
                break
            name, _, value = line.decode("ascii").partition(":")
            assert value, f"not a header line: {line!r}"
            headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(
            self.proc.stdout.readexactly(int(headers["content-length"])), timeout
        )
        message: dict[str, Any] = json.loads(body)
        return message

    async def response(self, msg_id: int | None, timeout: float = 30) -> dict[str, Any]:
        """The response to `msg_id` (None: an error response with a null id)."""
        while True:
            message = await self.read_message(timeout)
            if "method" in message:
                if "id" in message:
                    self.requests.append(message)
                    # Answer server->client requests (progress create, registration).
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                else:
                    self.notifications.append(message)
                continue
            if message.get("id") == msg_id:
                return message

    async def initialize(self, root: Path | None, options: Any = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "capabilities": {"window": {"workDoneProgress": True}},
            "rootUri": root.as_uri() if root else None,
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}] if root else None,
            "initializationOptions": options,
        }
        reply = await self.response(self.request("initialize", params))
        self.notify("initialized", {})
        return reply

    async def shutdown(self, timeout: float = 30) -> int:
        reply = await self.response(self.request("shutdown"))
        assert "error" not in reply, reply
        self.notify("exit")
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
