"""pygls' LSP protocol hardened against bad clients.

pygls drops some malformed messages without an answer (the client would wait forever).
Here every request gets a JSON-RPC response: ParseError for bytes that are not JSON,
InvalidRequest for messages that are not JSON-RPC 2.0 (or arrive after shutdown),
InvalidParams for params that do not match the method's schema, and
ServerNotInitialized for requests before `initialize`. Omitted `params` mean none (JSON-RPC
allows it). Error replies never carry a Python traceback (it goes to the log). The server
keeps running. Each request it handles is timed, from receipt to reply, under its method
(`llmgenie_lsp_request_latency_seconds`; a method the server does not know is "other").
"""

from __future__ import annotations

import json
import time
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

from llmgenie.lsp.errors import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    SERVER_NOT_INITIALIZED,
)
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import LSP_REQUEST_LATENCY

_log = get_logger(__name__)

_ALLOWED_BEFORE_INIT = {types.INITIALIZE, types.EXIT}


@attrs.define
class RejectedMessage:
    """A request that failed validation while being decoded; answered with `code`."""

    id: int | str | None
    method: str
    code: int
    message: str
    jsonrpc: str = "2.0"


def _message_id(data: dict[str, Any]) -> int | str | None:
    msg_id = data.get("id")
    return msg_id if isinstance(msg_id, int | str) and not isinstance(msg_id, bool) else None


class LlmgenieProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that always answers requests, even malformed ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self._received: dict[int | str, tuple[str, float]] = {}  # request id: method, when

    def _metric_method(self, method: str) -> str:
        """The method as a label value: one the server handles, else "other" (a client
        may send any string)."""
        known = method in self.fm.features or method in self.fm.builtin_features
        return method if known else "other"

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" not in data:
            return data
        method = data.get("method")
        if "method" in data and not isinstance(method, str):
            return RejectedMessage(
                id=_message_id(data),
                method=repr(method),
                code=INVALID_REQUEST if "id" in data else 0,
                message="Invalid request: method must be a string",
            )
        if isinstance(method, str) and "params" not in data:
            data = {**data, "params": None}
        if data["jsonrpc"] != "2.0":
            return RejectedMessage(
                id=_message_id(data),
                method=str(data.get("method")),
                code=INVALID_REQUEST if "id" in data else 0,
                message='Invalid request: jsonrpc must be "2.0"',
            )
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            method = data.get("method")
            if "id" in data and isinstance(method, str):
                detail = str(exc.__cause__ or exc)
                first = detail.strip().splitlines()[0] if detail.strip() else "schema mismatch"
                return RejectedMessage(
                    id=_message_id(data),
                    method=method,
                    code=INVALID_PARAMS,
                    message=f"Invalid params for {method}: {first}",
                )
            _log.warning("message_invalid", method=method, error=str(exc.__cause__ or exc))
            return RejectedMessage(id=None, method=str(method), code=0, message="")

    def handle_message(self, message: Any) -> None:
        if isinstance(message, RejectedMessage):
            if message.code:
                self._reply_error(message.id, message.code, message.message)
            return
        if not hasattr(message, "jsonrpc") or getattr(message, "jsonrpc", None) != "2.0":
            data = message if isinstance(message, dict) else {}
            _log.warning("message_not_jsonrpc", kind=type(message).__name__)
            self._reply_error(
                _message_id(data), INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message"
            )
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if self._shutdown and is_request and method != types.EXIT:
            self._reply_error(
                message.id, INVALID_REQUEST, "Invalid request: server is shutting down"
            )
            return
        if (
            method is not None
            and not self.initialize_received
            and method not in _ALLOWED_BEFORE_INIT
        ):
            if is_request:
                self._reply_error(
                    message.id,
                    SERVER_NOT_INITIALIZED,
                    f"Server not initialized: {method} before initialize",
                )
            else:
                _log.warning("notification_before_initialize", method=method)
            return
        if method == types.INITIALIZE and is_request:
            if self.initialize_received:
                self._reply_error(
                    message.id, INVALID_REQUEST, "Invalid request: already initialized"
                )
                return
            self.initialize_received = True
        if is_request and isinstance(method, str) and isinstance(message.id, int | str):
            self._received[message.id] = (self._metric_method(method), time.perf_counter())
        super().handle_message(message)

    def refuse_frame(self, reason: str) -> None:
        """Answer a frame that was not read (too large); the connection stays up."""
        self._reply_error(None, INVALID_REQUEST, f"Invalid request: {reason}")

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        """pygls puts a traceback into internal errors' data: log it, never send it."""
        received = self._received.pop(msg_id, None) if isinstance(msg_id, int | str) else None
        if received is not None:
            method, started = received
            LSP_REQUEST_LATENCY.labels(method).observe(time.perf_counter() - started)
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            _log.error(
                "request_crashed", id=msg_id, error=error.message, traceback=error.data["traceback"]
            )
            rest = {k: v for k, v in error.data.items() if k != "traceback"}
            error = types.ResponseError(code=error.code, message=error.message, data=rest or None)
        super()._send_response(msg_id, result, error)

    def reply_parse_error(self, error: Exception) -> None:
        """Answer bytes that are not JSON (the id is unknowable, so it is null)."""
        self._reply_error(None, PARSE_ERROR, f"Parse error: {error}")

    def _reply_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        _log.warning("request_rejected", id=msg_id, code=code, message=message)
        self._send_data(
            types.ResponseErrorMessage(
                id=msg_id, error=types.ResponseError(code=code, message=message)
            )
        )


def is_parse_error(error: Exception) -> bool:
    return isinstance(error, json.JSONDecodeError | UnicodeDecodeError)
