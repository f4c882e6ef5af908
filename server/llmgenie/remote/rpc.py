"""JSON-RPC 2.0 over any message transport (a WebSocket text frame per message).

Both directions: incoming requests run as tasks (so `$/cancelRequest` can cancel them),
incoming responses resolve our own requests, and every request gets an answer — errors
never carry a traceback. Used by the team server (one connection per WebSocket) and by
the editor's forwarding client (remote/client.py), so both speak exactly the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from llmgenie.contracts.errors import InvalidRequest, RequestFailed
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

Handler = Callable[[Any], Awaitable[Any]]
Send = Callable[[str], Awaitable[None]]


class RpcError(Exception):
    """An error answer (ours to send, or the peer's to raise)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class Disconnected(ConnectionError):
    """The connection closed before the peer answered."""


def to_rpc_error(exc: BaseException) -> RpcError:
    """The answer a client gets for an exception raised by a handler."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, InvalidRequest):
        return RpcError(INVALID_PARAMS, str(exc))
    if isinstance(exc, RequestFailed):
        return RpcError(REQUEST_FAILED, str(exc), {"reason": exc.reason, **exc.data})
    _log.error("rpc_handler_crashed", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
    return RpcError(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")


class JsonRpcConnection:
    """One JSON-RPC peer: dispatches what arrives, and sends requests of its own."""

    def __init__(
        self,
        send: Send,
        handlers: dict[str, Handler],
        translate: Callable[[BaseException], RpcError] = to_rpc_error,
    ) -> None:
        self._send = send
        self._handlers = handlers
        self._translate = translate
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self._running: dict[int | str, asyncio.Task[None]] = {}
        self._notes: set[asyncio.Future[None]] = set()
        self.closed = False

    # -- outgoing ---------------------------------------------------------------------------

    async def request(self, method: str, params: Any, timeout: float | None = None) -> Any:
        """Send a request and wait for its result (RpcError if the peer answers an error)."""
        if self.closed:
            raise Disconnected(f"connection closed before {method}")
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            await self.notify("$/cancelRequest", {"id": msg_id})
            raise
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any) -> None:
        if not self.closed:
            await self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def _write(self, message: dict[str, Any]) -> None:
        try:
            await self._send(json.dumps(message, separators=(",", ":"), default=str))
        except Exception as exc:
            self.close()
            raise Disconnected(str(exc)) from exc

    # -- incoming ---------------------------------------------------------------------------

    async def receive(self, text: str) -> None:
        """Handle one message from the peer (never raises for bad input)."""
        if len(text) > MAX_MESSAGE_BYTES:
            await self._reply(None, error=RpcError(INVALID_REQUEST, "message too large"))
            return
        try:
            message = json.loads(text)
        except (ValueError, RecursionError) as exc:
            await self._reply(None, error=RpcError(PARSE_ERROR, f"Parse error: {exc}"))
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            await self._reply(None, error=RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 message"))
            return
        msg_id = message.get("id")
        method = message.get("method")
        if method is None and msg_id is not None:
            self._resolve(msg_id, message)
            return
        if not isinstance(method, str):
            if msg_id is not None:
                await self._reply(
                    msg_id, error=RpcError(INVALID_REQUEST, "method must be a string")
                )
            return
        if method == "$/cancelRequest":
            params = message.get("params")
            target = params.get("id") if isinstance(params, dict) else None
            task = self._running.get(target) if isinstance(target, int | str) else None
            if task is not None:
                task.cancel()
            return
        if msg_id is None:
            handler = self._handlers.get(method)
            if handler is not None:
                note = asyncio.ensure_future(self._notification(handler, message.get("params")))
                self._notes.add(note)
                note.add_done_callback(self._notes.discard)
            return
        if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
            await self._reply(
                None, error=RpcError(INVALID_REQUEST, "id must be a number or string")
            )
            return
        task = asyncio.ensure_future(self._call(msg_id, method, message.get("params")))
        self._running[msg_id] = task
        task.add_done_callback(lambda _: self._running.pop(msg_id, None))

    async def _call(self, msg_id: int | str, method: str, params: Any) -> None:
        handler = self._handlers.get(method)
        if handler is None:
            await self._reply(msg_id, error=RpcError(METHOD_NOT_FOUND, f"unknown method {method}"))
            return
        try:
            result = await handler(params)
        except asyncio.CancelledError:
            await self._reply(msg_id, error=RpcError(REQUEST_CANCELLED, "request cancelled"))
            return
        except Exception as exc:
            await self._reply(msg_id, error=self._translate(exc))
            return
        await self._reply(msg_id, result=result)

    async def _notification(self, handler: Handler, params: Any) -> None:
        try:
            await handler(params)
        except Exception as exc:
            _log.warning("rpc_notification_failed", error=repr(exc))

    async def _reply(
        self, msg_id: Any, *, result: Any = None, error: RpcError | None = None
    ) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id}
        if error is not None:
            body: dict[str, Any] = {"code": error.code, "message": error.message}
            if error.data is not None:
                body["data"] = error.data
            message["error"] = body
        else:
            message["result"] = result
        with contextlib.suppress(Disconnected):
            await self._write(message)

    def _resolve(self, msg_id: Any, message: dict[str, Any]) -> None:
        future = self._pending.get(msg_id)
        if future is None or future.done():
            return
        error = message.get("error")
        if isinstance(error, dict):
            future.set_exception(
                RpcError(
                    int(error.get("code", INTERNAL_ERROR)),
                    str(error.get("message")),
                    error.get("data"),
                )
            )
        else:
            future.set_result(message.get("result"))

    def close(self) -> None:
        """The transport is gone: fail our pending requests, cancel running handlers."""
        if self.closed:
            return
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(Disconnected("connection closed"))
        for task in self._running.values():
            task.cancel()
