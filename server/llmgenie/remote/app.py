"""The team server as one ASGI app: REST `/api/v1`, WebSocket `/lsp`, health and metrics.

`create_app` wires the parts from settings: the database (schema must be at the newest
migration; --dev upgrades it itself), the ledger, the authenticator, Redis (or in-memory
stand-ins in --dev) and the run queue: a Celery worker pool when a broker is configured,
else a thread pool of this process. A reaper re-queues runs whose lease expired.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from llmgenie import __version__
from llmgenie.config import ConfigError, Settings
from llmgenie.contracts.team import ErrorBody
from llmgenie.locations import data_root
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import (
    API_LATENCY,
    LEASE_EXPIRIES,
    QUEUE_DEPTH,
    RUNS_RUNNING,
    WEBSOCKET_SESSIONS,
    WORKERS,
    WORKERS_LOST,
    render_metrics,
)
from llmgenie.remote import migrate
from llmgenie.remote.api import ApiError, build_router, error_response
from llmgenie.remote.auth import Authenticator
from llmgenie.remote.db import Database
from llmgenie.remote.ledger import Ledger
from llmgenie.remote.live import (
    EventTail,
    MemoryRateLimiter,
    MemorySessions,
    MemoryTail,
    RateLimiter,
    RedisRateLimiter,
    RedisSessions,
    RedisTail,
    Sessions,
)
from llmgenie.remote.relay import CallbackPump, RepositoryPump
from llmgenie.remote.repos import LocalRepositoryChannel, RepositoryStore, TeamIndex
from llmgenie.remote.runner import InProcessQueue, RunQueue, RunRunner
from llmgenie.remote.service import TeamService, sandbox_root
from llmgenie.remote.settings import TeamServerSettings
from llmgenie.remote.ws import serve_websocket

_log = get_logger(__name__)
RETENTION_SWEEP_S = 3600.0
BLOB_GRACE_S = 86400.0
DB_THREADS = 30


class TeamServer:
    """Everything the app needs, built once at startup and closed at shutdown."""

    def __init__(self, team: TeamServerSettings, settings: Settings) -> None:
        self.team = team
        self.settings = settings
        key = team.signing_key()  # refuse a missing or short key before touching anything
        data_dir = team.data_dir or data_root(settings)
        self.db = Database(team.database(data_dir / "team"))
        revision = migrate.current_revision(self.db)
        if revision != migrate.head_revision():
            if not team.dev:
                raise ConfigError(
                    f"the database schema is at {revision or 'nothing'}, not "
                    f"{migrate.head_revision()}: run `llmgenie team migrate` first"
                )
            migrate.upgrade(self.db)
        self.ledger = Ledger(self.db)
        self.auth = Authenticator(
            self.db,
            key,
            team.access_token_ttl_s,
            team.refresh_token_ttl_s,
            team.pat_max_days,
        )
        self.sandboxes = sandbox_root(data_dir)
        self.blobs = team.blobs(data_dir / "team")
        self.index = TeamIndex(
            RepositoryStore(self.db), settings, data_dir / "team", team.repo_roots,
            team.repo_refresh_s,
        )  # fmt: skip
        self.repository_pump: RepositoryPump | None = None
        self.tail: EventTail
        self.limiter: RateLimiter
        self.sessions: Sessions
        self._redis_ping: Callable[[], Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> TeamService:
        team = self.team
        if team.redis_url:
            import redis

            client = redis.Redis.from_url(team.redis_url, socket_timeout=2)
            self._redis_ping = client.ping
            self.tail = RedisTail(team.redis_url)
            self.limiter = RedisRateLimiter(team.redis_url, team.rate_limit_per_minute)
            self.sessions = RedisSessions(team.redis_url)
        elif team.dev:
            self.tail = MemoryTail(loop)
            self.limiter = MemoryRateLimiter(team.rate_limit_per_minute)
            self.sessions = MemorySessions()
        else:
            raise ConfigError(
                "no Redis: set LLMGENIE_TEAM_REDIS_URL (redis://host:6379/0) or --dev"
            )
        service: TeamService | None = None

        def channel_for(run_id: str) -> Any:
            assert service is not None
            return service.channel_for(run_id)

        self.relay: CallbackPump | None = None
        if team.broker_url:  # a worker pool runs the runs; editors' tool calls go via Redis
            if not team.redis_url:
                raise ConfigError("a worker pool needs Redis: set LLMGENIE_TEAM_REDIS_URL")
            from llmgenie.remote.worker import CeleryQueue

            self.queue: RunQueue = CeleryQueue(team.broker_url)
            self.relay = CallbackPump(team.redis_url)
            self.repository_pump = RepositoryPump(team.redis_url, self.index)
        else:
            runner = RunRunner(
                self.ledger,
                self.settings,
                self.sandboxes,
                self.tail,
                channel_for,
                team.callback_timeout_s,
                self.blobs,
                lease_s=team.lease_s,
                repository_channel=lambda rid: LocalRepositoryChannel(self.index, rid),
            )
            self.queue = InProcessQueue(runner)
        service = TeamService(
            self.ledger,
            self.auth,
            self.queue,
            self.limiter,
            self.sessions,
            self.settings,
            self.blobs,
            self._redis_ping,
            self.relay,
            self.index,
        )
        self.index.start()
        return service

    def sweep_blobs(self) -> int:
        """Delete context-bundle blobs no run refers to any more (after retention purged
        or erasure removed their runs); a day's grace covers submits in flight."""
        return self.blobs.sweep(self.ledger.referenced_blobs(), BLOB_GRACE_S)

    def reap(self) -> None:
        """One reaper pass: queue again the runs whose worker vanished (lease expired) or
        whose doorbell may have been lost, and refresh the pool's gauges."""
        expired, stale = self.ledger.reap(self.team.stale_queued_s)
        for run_id in expired:
            _log.warning("run_lease_expired", run_id=run_id)
        for run_id in [*expired, *stale]:
            self.queue.enqueue(run_id)
        LEASE_EXPIRIES.inc(len(expired))
        counts = self.ledger.leases()
        QUEUE_DEPTH.set(counts["queued"])
        RUNS_RUNNING.set(counts["running"])
        if self.team.broker_url and self.team.redis_url:
            from llmgenie.remote.worker import live_workers, lost_workers

            WORKERS.set(len(live_workers(self.team.redis_url)))
            WORKERS_LOST.set(lost_workers(self.team.redis_url))

    async def close(self) -> None:
        self.queue.close()
        self.index.close()
        if self.repository_pump is not None:
            await self.repository_pump.close()
        if self.relay is not None:
            await self.relay.close()
        if isinstance(self.tail, RedisTail):
            await self.tail.close()
        self.db.dispose()


def create_app(team: TeamServerSettings, settings: Settings) -> FastAPI:
    """The team server's ASGI app (raises ConfigError for a bad configuration)."""
    server = TeamServer(team, settings)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        # Blocking database calls of requests and sessions run here (one per connection of
        # the pool and its overflow), not on the loop's small default pool.
        loop.set_default_executor(ThreadPoolExecutor(DB_THREADS, "llmgenie-team-db"))
        service = server.start(loop)
        state["service"] = service
        sweeper = asyncio.ensure_future(_retention(server)) if team.run_retention_days else None
        reaper = asyncio.ensure_future(_reaper(server))
        pump = server.repository_pump
        answering = asyncio.ensure_future(pump.run()) if pump is not None else None
        _log.info("team_server_started", dev=team.dev, postgres=server.db.is_postgres)
        try:
            yield
        finally:
            reaper.cancel()
            if answering is not None:
                answering.cancel()
            if sweeper is not None:
                sweeper.cancel()
            await server.close()

    app = FastAPI(
        title="llmgenie team server",
        version=__version__,
        lifespan=lifespan,
        description="Heavy crews for a team, over the same protocol as `llmgenie serve`.",
    )
    # Routes need the started service: build them now against a late-bound proxy.
    app.include_router(build_router(_LateService(state)))  # type: ignore[arg-type]

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Framework errors (a body that is not JSON, an unknown path, a wrong method) in
        the API's error shape; a 405 lists every method the path allows."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        body = ErrorBody(error=_WORDS.get(exc.status_code, "error"), message=str(exc.detail))
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        body = ErrorBody(error="invalid", message=f"{where}: {first.get('msg')}")
        return JSONResponse(body.model_dump(), status_code=422)

    @app.middleware("http")
    async def timed(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")  # never the path itself: ids in it
        method = request.method if request.method in _HTTP_METHODS else "other"
        API_LATENCY.labels(template, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: the database (and Redis) answer."""
        service: TeamService = state["service"]
        health = await asyncio.get_running_loop().run_in_executor(None, service.health)
        return JSONResponse(
            {"status": "ok" if health.ok else "unavailable", "checks": health.checks},
            status_code=200 if health.ok else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(render_metrics().decode(), media_type=CONTENT_TYPE_LATEST)

    @app.websocket("/lsp")
    async def lsp(websocket: WebSocket) -> None:
        WEBSOCKET_SESSIONS.inc()
        try:
            await serve_websocket(websocket, state["service"], server.tail)
        finally:
            WEBSOCKET_SESSIONS.dec()

    return app


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The `method` label's values besides "other" (a client may send any token as a method)."""

_WORDS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route of this path accepts."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


class _LateService:
    """Forwards attribute access to the service created at startup (routes are built
    before the lifespan runs, so OpenAPI exists without a database connection)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state["service"], name)


async def _reaper(server: TeamServer) -> None:
    """Every reaper interval: one pass (several servers may reap: a claim is atomic)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, server.reap)
        except Exception as exc:  # the database blinked: next pass
            _log.warning("reaper_failed", error=repr(exc))
        await asyncio.sleep(server.team.reaper_interval_s)


async def _retention(server: TeamServer) -> None:
    """Hourly: drop run payloads older than the retention period."""
    days = server.team.run_retention_days or 0
    while True:
        try:
            purged = await asyncio.get_running_loop().run_in_executor(
                None, server.ledger.purge_payloads, days * 86400.0
            )
            if purged:
                _log.info("run_payloads_purged", runs=purged)
            swept = await asyncio.get_running_loop().run_in_executor(None, server.sweep_blobs)
            if swept:
                _log.info("blobs_swept", blobs=swept)
        except Exception as exc:
            _log.warning("retention_sweep_failed", error=repr(exc))
        await asyncio.sleep(RETENTION_SWEEP_S)


class NoQueryStrings(logging.Filter):
    """Drops query strings from uvicorn's log lines: a client may put a token there (it is
    refused, and must not be written down either)."""

    _QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._QUERY.sub("?…", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self._QUERY.sub("?…", record.msg)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging with the query-string filter on every handler."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_query": {"()": "llmgenie.remote.app.NoQueryStrings"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["no_query"]
    return config
