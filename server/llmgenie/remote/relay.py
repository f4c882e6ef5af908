"""Tool calls from a worker to the editor that submitted the run, through Redis.

The editor is connected to a team server, not to the worker running its run. The worker
pushes each request on the run's list in Redis and waits for the answer on a key of its
own; the team server session that holds the editor's connection pumps the list, asks the
editor, and pushes the answer back. While a session pumps a run it keeps a short-lived
`attached` key, so a worker whose run has no editor (disconnected) falls back to its
sandbox at once instead of waiting out the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from llmgenie.observability.logging import get_logger
from llmgenie.remote.workspace import ChannelClosed

_log = get_logger(__name__)

PREFIX = "llmgenie:cb"
ATTACHED_TTL_S = 15
REPLY_TTL_S = 120
PUMP_WAIT_S = 5


def _requests(run_id: str) -> str:
    return f"{PREFIX}:req:{run_id}"


def _reply(request_id: str) -> str:
    return f"{PREFIX}:rep:{request_id}"


def _attached(run_id: str) -> str:
    return f"{PREFIX}:attached:{run_id}"


class RedisEditorChannel:
    """The worker side: an EditorChannel for one run."""

    def __init__(self, redis_url: str, run_id: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=None)
        self._run_id = run_id

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        if not self._redis.exists(_attached(self._run_id)):
            raise ChannelClosed("no editor is connected to this run")
        request_id = uuid.uuid4().hex
        message = {"id": request_id, "method": method, "params": params, "timeout": timeout}
        self._redis.rpush(_requests(self._run_id), json.dumps(message))
        popped = self._redis.blpop([_reply(request_id)], timeout=max(1, int(timeout) + 1))
        if popped is None:
            raise TimeoutError(f"the editor did not answer {method} in {timeout:.0f}s")
        answer = json.loads(popped[1])
        if "error" in answer:
            raise ChannelClosed(str(answer["error"]))
        return answer.get("result")


class Asker(Protocol):
    """What answers a request on the editor's connection (a TeamSession)."""

    async def ask(self, method: str, params: dict[str, Any], timeout: float) -> Any: ...


class CallbackPump:
    """The team-server side: relays one run's tool calls to the editor's session."""

    def __init__(self, redis_url: str) -> None:
        import redis
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=None)
        self._sync = redis.Redis.from_url(redis_url, socket_timeout=2)

    def mark_attached(self, run_id: str) -> None:
        """An editor answers this run (set before its doorbell rings; the pump renews it)."""
        try:
            self._sync.set(_attached(run_id), "1", ex=ATTACHED_TTL_S)
        except Exception as exc:  # the worker falls back to its sandbox
            _log.warning("callback_attach_failed", run_id=run_id, error=repr(exc))

    async def pump(self, run_id: str, session: Asker, ended: Callable[[], Awaitable[bool]]) -> None:
        """Answer the run's tool calls through `session` until the run ends (or this is
        cancelled: the editor left)."""
        try:
            while True:
                await self._redis.set(_attached(run_id), "1", ex=ATTACHED_TTL_S)
                popped = await self._redis.blpop([_requests(run_id)], timeout=PUMP_WAIT_S)
                if popped is None:
                    if await ended():
                        await self._redis.delete(_attached(run_id))
                        return
                    continue
                request = json.loads(popped[1])
                try:
                    result = await session.ask(
                        request["method"], request["params"], float(request.get("timeout", 20))
                    )
                    answer: dict[str, Any] = {"result": result}
                except Exception as exc:
                    answer = {"error": f"{type(exc).__name__}: {exc}"}
                key = _reply(request["id"])
                await self._redis.rpush(key, json.dumps(answer))
                await self._redis.expire(key, REPLY_TTL_S)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._redis.delete(_attached(run_id))
            raise
        except Exception as exc:  # Redis went away: the worker falls back to its sandbox
            _log.warning("callback_pump_failed", run_id=run_id, error=repr(exc))

    async def close(self) -> None:
        await self._redis.aclose()
        self._sync.close()
