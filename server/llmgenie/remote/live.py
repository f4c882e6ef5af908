"""The live side of the team server: the event tail subscribers follow, rate limits and
WebSocket sessions. Redis in production (shared by every server process and worker); an
in-memory equivalent in --dev.

The tail only rings the bell: events live in the ledger (PostgreSQL) with their sequence
numbers, and a subscriber always reads them from there after the last one it saw. So a
lost Redis message, a Redis restart or a reconnect costs latency, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import defaultdict
from typing import Any, Protocol

from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

STREAM_PREFIX = "llmgenie:runs:"
STREAM_MAXLEN = 1000
SESSION_TTL_S = 120


class EventTail(Protocol):
    """Wakes subscribers of a run when it has new events."""

    def publish(self, run_id: str, seq: int) -> None:
        """Announce that `run_id` now has events up to `seq` (from any thread)."""
        ...

    async def wait(self, run_id: str, after: int, timeout: float) -> None:
        """Return when `run_id` may have an event after `after`, or after `timeout`."""
        ...


class MemoryTail:
    """One process: a condition per run, woken on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._latest: dict[str, int] = defaultdict(int)
        self._changed: dict[str, asyncio.Event] = {}

    def publish(self, run_id: str, seq: int) -> None:
        self._loop.call_soon_threadsafe(self._set, run_id, seq)

    def _set(self, run_id: str, seq: int) -> None:
        self._latest[run_id] = max(self._latest[run_id], seq)
        event = self._changed.pop(run_id, None)
        if event is not None:
            event.set()

    async def wait(self, run_id: str, after: int, timeout: float) -> None:
        if self._latest[run_id] > after:
            return
        event = self._changed.setdefault(run_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class RedisTail:
    """Redis Streams: XADD on publish, XREAD BLOCK to wait (works across processes)."""

    def __init__(self, url: str) -> None:
        import redis
        import redis.asyncio as aioredis

        self._sync = redis.Redis.from_url(url, socket_timeout=5)
        self._async = aioredis.Redis.from_url(url, socket_timeout=None)

    def publish(self, run_id: str, seq: int) -> None:
        try:
            self._sync.xadd(
                STREAM_PREFIX + run_id, {"seq": seq}, maxlen=STREAM_MAXLEN, approximate=True
            )
        except Exception as exc:  # the ledger has the event; subscribers poll it anyway
            _log.warning("tail_publish_failed", run_id=run_id, error=repr(exc))

    async def wait(self, run_id: str, after: int, timeout: float) -> None:
        key = STREAM_PREFIX + run_id
        try:
            last: Any = await self._async.xrevrange(key, count=1)
            if last and int(last[0][1][b"seq"]) > after:
                return
            start: str | bytes = last[0][0] if last else "0-0"
            await self._async.xread({key: start}, block=int(timeout * 1000), count=1)
        except Exception as exc:  # Redis is down or restarting: fall back to polling
            _log.warning("tail_wait_failed", run_id=run_id, error=repr(exc))
            await asyncio.sleep(min(timeout, 1.0))

    async def close(self) -> None:
        await self._async.aclose()
        self._sync.close()


class RateLimiter(Protocol):
    def allow(self, user_id: str) -> bool:
        """Count one request of `user_id`; False once the user is over the limit."""
        ...


class MemoryRateLimiter:
    """Fixed one-minute windows per user, in this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._counts: dict[tuple[str, int], int] = defaultdict(int)

    def allow(self, user_id: str) -> bool:
        window = int(time.time() // 60)
        key = (user_id, window)
        self._counts[key] += 1
        if len(self._counts) > 10_000:
            for stale in [k for k in self._counts if k[1] < window]:
                del self._counts[stale]
        return self._counts[key] <= self.per_minute


class RedisRateLimiter:
    """Fixed one-minute windows per user in Redis, shared by every server process.

    Counting in Redis on every request would add a round trip to each one, so each
    process counts locally and adds its count to Redis (INCRBY) every SYNC_EVERY requests
    or SYNC_S seconds, learning the global count back: the limit holds to within a batch
    per process. If Redis is unreachable requests are allowed (and the failure logged): a
    limiter outage must not take the API down.
    """

    SYNC_EVERY = 20
    SYNC_S = 1.0

    def __init__(self, url: str, per_minute: int) -> None:
        import redis

        self.per_minute = per_minute
        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._lock = threading.Lock()
        # (user, window) -> [count known from Redis, local count not sent yet, last sync]
        self._windows: dict[tuple[str, int], list[float]] = {}

    def allow(self, user_id: str) -> bool:
        window = int(time.time() // 60)
        key = (user_id, window)
        with self._lock:
            state = self._windows.setdefault(key, [0.0, 0.0, 0.0])
            state[1] += 1
            due = state[1] >= self.SYNC_EVERY or time.monotonic() - state[2] >= self.SYNC_S
            pending = int(state[1]) if due else 0
            if due:
                state[1] = 0
                state[2] = time.monotonic()
            if len(self._windows) > 10_000:
                for stale in [k for k in self._windows if k[1] < window]:
                    del self._windows[stale]
        if due:
            redis_key = f"llmgenie:rate:{user_id}:{window}"
            try:
                pipe = self._redis.pipeline()
                pipe.incrby(redis_key, pending)
                pipe.expire(redis_key, 120)
                total = float(pipe.execute()[0])
            except Exception as exc:
                _log.warning("rate_limit_unavailable", error=repr(exc))
                return True
            with self._lock:
                state[0] = total
        with self._lock:
            return state[0] + state[1] <= self.per_minute


class Sessions(Protocol):
    def opened(self, session_id: str, user_id: str) -> None: ...

    def closed(self, session_id: str) -> None: ...

    def count(self) -> int: ...


class MemorySessions:
    def __init__(self) -> None:
        self._open: dict[str, str] = {}

    def opened(self, session_id: str, user_id: str) -> None:
        self._open[session_id] = user_id

    def closed(self, session_id: str) -> None:
        self._open.pop(session_id, None)

    def count(self) -> int:
        return len(self._open)


class RedisSessions:
    """Open WebSocket sessions, one key each with a TTL (a crashed server's expire)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._local: set[str] = set()

    def opened(self, session_id: str, user_id: str) -> None:
        self._local.add(session_id)
        with contextlib.suppress(Exception):
            self._redis.set(f"llmgenie:session:{session_id}", user_id, ex=SESSION_TTL_S)

    def closed(self, session_id: str) -> None:
        self._local.discard(session_id)
        with contextlib.suppress(Exception):
            self._redis.delete(f"llmgenie:session:{session_id}")

    def count(self) -> int:
        return len(self._local)
