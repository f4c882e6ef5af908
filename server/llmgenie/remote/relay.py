"""Tool calls from a worker to the editor that submitted the run, through Redis.

The editor is connected to a team server, not to the worker running its run. The worker
pushes each request on the run's list in Redis and waits for the answer on a key of its
own; the team server session that holds the editor's connection pumps the list, asks the
editor, and pushes the answer back. While a session pumps a run it keeps a short-lived
`attached` key, so a worker whose run has no editor (disconnected) falls back to its
sandbox at once instead of waiting out the deadline.

Runs on a registered repository ask the team index the same way: their questions go on
one shared list that every team server with that repository indexed consumes.
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


# -- the team index, for runs on registered repositories ------------------------------------

REPO_REQUESTS = f"{PREFIX}:repo-req"
REPO_READY_TTL_S = 15


def _repo_ready(repository_id: str) -> str:
    return f"{PREFIX}:repo-ready:{repository_id}"


class RedisRepositoryChannel:
    """The worker side of a run on a registered repository: any team server that has the
    repository indexed answers (they share one request list)."""

    def __init__(self, redis_url: str, repository_id: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=None)
        self._id = repository_id

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        if not self._redis.exists(_repo_ready(self._id)):
            raise TimeoutError("no team server has this repository indexed right now")
        request_id = uuid.uuid4().hex
        message = {"id": request_id, "repo": self._id, "method": method, "params": params}
        self._redis.rpush(REPO_REQUESTS, json.dumps(message))
        popped = self._redis.blpop([_reply(request_id)], timeout=max(1, int(timeout) + 1))
        if popped is None:
            raise TimeoutError(f"the team index did not answer {method} in {timeout:.0f}s")
        answer = json.loads(popped[1])
        if "error" in answer:
            raise LookupError(str(answer["error"]))
        return answer.get("result")


class RepositoryAnswers(Protocol):
    """What answers from the team index (remote.repos.TeamIndex)."""

    def ready(self) -> list[str]: ...

    def answer(self, repository_id: str, method: str, params: dict[str, Any]) -> Any: ...


class RepositoryPump:
    """The team-server side: answers workers' tool calls on registered repositories from
    this server's team index, and says which repositories it can answer for."""

    def __init__(self, redis_url: str, index: RepositoryAnswers, consumers: int = 4) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(redis_url, socket_timeout=None)
        self._index = index
        self._consumers = consumers

    async def run(self) -> None:
        """Until cancelled."""
        await asyncio.gather(self._announce(), *(self._serve() for _ in range(self._consumers)))

    async def _announce(self) -> None:
        while True:
            try:
                for repository_id in self._index.ready():
                    await self._redis.set(_repo_ready(repository_id), "1", ex=REPO_READY_TTL_S)
            except Exception as exc:  # Redis went away: announce again next round
                _log.warning("repository_announce_failed", error=repr(exc))
            await asyncio.sleep(REPO_READY_TTL_S / 3)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                popped = await self._redis.blpop([REPO_REQUESTS], timeout=PUMP_WAIT_S)
            except Exception as exc:
                _log.warning("repository_pump_failed", error=repr(exc))
                await asyncio.sleep(1)
                continue
            if popped is None:
                continue
            request = json.loads(popped[1])
            try:
                result = await loop.run_in_executor(
                    None,
                    self._index.answer,
                    str(request["repo"]),
                    str(request["method"]),
                    dict(request["params"]),
                )
                answer: dict[str, Any] = {"result": result}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            key = _reply(str(request["id"]))
            with contextlib.suppress(Exception):
                await self._redis.rpush(key, json.dumps(answer))
                await self._redis.expire(key, REPLY_TTL_S)

    async def close(self) -> None:
        await self._redis.aclose()
