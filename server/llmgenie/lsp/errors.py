"""JSON-RPC errors the server answers with (codes documented in docs/protocol.md), and the
decorator that turns the application's errors into them.

A request handler never leaks a Python traceback to the client: contract errors become
InvalidParams (-32602) or RequestFailed (-32803, with `data.reason`), anything else an
internal error (-32603) whose message names the exception; the traceback goes to the log.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pygls.exceptions import JsonRpcException

from llmgenie.contracts import errors
from llmgenie.observability.logging import get_logger

INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
PARSE_ERROR = -32700
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803

_log = get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


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


class InternalError(JsonRpcException):
    """An unexpected failure; the message names it, the log has the traceback."""

    CODE = INTERNAL_ERROR
    MESSAGE = "Internal error"


def to_jsonrpc(exc: Exception) -> JsonRpcException:
    """The JSON-RPC error a client gets for `exc`."""
    if isinstance(exc, JsonRpcException):
        return exc
    if isinstance(exc, errors.InvalidRequest):
        return InvalidParams(str(exc))
    if isinstance(exc, errors.RequestFailed):
        return RequestFailed(str(exc), exc.reason, **exc.data)
    if isinstance(exc, errors.PathEscapeError):
        return InvalidParams(f"refused: {exc}")
    _log.error("request_crashed", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
    return InternalError(f"{type(exc).__name__}: {exc}")


def answers(handler: F) -> F:
    """Wrap a request handler so every failure reaches the client as a JSON-RPC error."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except Exception as exc:
                raise to_jsonrpc(exc) from exc

        return cast(F, run_async)

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as exc:
            raise to_jsonrpc(exc) from exc

    return cast(F, run)
