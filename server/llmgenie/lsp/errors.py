"""JSON-RPC errors the server answers with (codes documented in docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
PARSE_ERROR = -32700
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803


class InvalidParams(JsonRpcException):
    """The params (or command arguments) do not match the documented schema."""

    CODE = INVALID_PARAMS
    MESSAGE = "Invalid params"


class RequestFailed(JsonRpcException):
    """A well-formed request that could not be served; `data.reason` says why."""

    CODE = REQUEST_FAILED
    MESSAGE = "Request failed"

    def __init__(self, message: str, reason: str, **extra: Any) -> None:
        super().__init__(message=message, code=REQUEST_FAILED, data={"reason": reason, **extra})
