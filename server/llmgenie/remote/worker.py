"""The worker pool: `llmgenie team worker` executes the runs the team server queues.

The broker (RabbitMQ) is only a doorbell: a message says "run X may be waiting" and is
acknowledged on receipt. The ledger is the source of truth. A worker *claims* the run
(atomically: attempt + 1, a lease it renews while it works), and every write of the run
is fenced by that attempt. A worker that dies stops renewing; the team server's reaper
queues the run again and rings once more. So none of Celery's traps for long tasks can
lose or double a run: redelivery of a running task finds the lease held (Held), a lost
message is rung again by the reaper, nothing unacknowledged sits on the broker for
RabbitMQ's consumer timeout, and a cancel is a row in the database, not a revoke in
worker memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from celery import Celery, signals

from llmgenie.config import ConfigError, Settings
from llmgenie.locations import data_root
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import SERVER_ONLY, serve_metrics
from llmgenie.observability.tracing import carrier
from llmgenie.remote import migrate
from llmgenie.remote.db import Database
from llmgenie.remote.ledger import Ledger
from llmgenie.remote.live import RedisTail
from llmgenie.remote.relay import RedisEditorChannel, RedisRepositoryChannel
from llmgenie.remote.runner import RunRunner
from llmgenie.remote.service import sandbox_root
from llmgenie.remote.settings import TeamServerSettings

_log = get_logger(__name__)

QUEUE = "llmgenie.runs"
TASK = "llmgenie.run"
WORKER_KEY = "llmgenie:worker:"
WORKER_SEEN_KEY = "llmgenie:worker-seen:"
WORKER_BEAT_S = 2.0
WORKER_TTL_S = 10
WORKER_SEEN_S = 600
"""How long a worker that stopped beating without a clean shutdown counts as lost."""
SWEEP_S = 2.0


def celery_app(broker_url: str) -> Celery:
    """The Celery app both sides share (the server only sends; workers consume)."""
    app = Celery("llmgenie", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE,
        task_acks_late=False,  # a doorbell: acknowledged on receipt, the ledger holds the run
        worker_prefetch_multiplier=1,  # a busy worker does not sit on others' doorbells
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a RabbitMQ restart: keep reconnecting
        broker_connection_timeout=4,
        broker_transport_options={"confirm_publish": True},  # a doorbell lost is an error
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_redirect_stdouts=False,  # our JSON logs go to stderr as they are
        broker_heartbeat=10,  # notice a dead broker connection in seconds, not minutes
    )
    return app


class CeleryQueue:
    """The team server's RunQueue when a broker is configured: rings the pool's doorbell."""

    def __init__(self, broker_url: str) -> None:
        self.app = celery_app(broker_url)

    def enqueue(self, run_id: str) -> None:
        """Ring for `run_id`; the message's headers carry the caller's trace context (W3C
        `traceparent`), which the worker continues (none from the reaper: the worker then
        continues the trace the run's ledger row keeps)."""
        try:
            self.app.send_task(
                TASK,
                args=[run_id],
                queue=QUEUE,
                headers=carrier() or None,
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            )
        except Exception as exc:  # the run is in the ledger: the reaper rings again
            _log.warning("run_doorbell_failed", run_id=run_id, error=repr(exc))

    def cancel(self, run_id: str) -> None:
        """Nothing to do here: the worker holding the run polls the ledger's flag."""

    def close(self) -> None:
        self.app.close()


TRACE_HEADERS = ("traceparent", "tracestate")


def register_run_task(
    app: Celery, execute: Callable[[str, Mapping[str, str] | None], None]
) -> None:
    """The doorbell's task: `execute(run_id, trace headers of the message, or None)`."""

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def run(task: Any, run_id: str) -> None:
        headers = {k: str(v) for k in TRACE_HEADERS if (v := task.request.get(k))}
        execute(run_id, headers or None)


def worker_id() -> str:
    """host:pid:random, unique per worker process (the lease owner's name)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkerBeat:
    """Publishes this worker's liveness in Redis (a key that expires unless renewed), and
    a longer-lived "seen" key that only a clean shutdown removes: a seen key without a
    heartbeat is a worker that vanished (killed, hung, node lost)."""

    def __init__(self, redis_url: str, ident: str, concurrency: int, runner: RunRunner) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2)
        self._ident = ident
        self._concurrency = concurrency
        self._runner = runner
        self._started = time.time()
        self._looped = time.monotonic()
        self._stop = threading.Event()

    def healthy(self) -> bool:
        """Liveness: the beat loop turns (a Redis outage is not this process's fault)."""
        return time.monotonic() - self._looped < WORKER_TTL_S

    def start(self) -> None:
        threading.Thread(target=self._loop, name="llmgenie-worker-beat", daemon=True).start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._looped = time.monotonic()
            info = {
                "id": self._ident,
                "concurrency": self._concurrency,
                "running": self._runner.running(),
                "started": self._started,
                "at": time.time(),
            }
            try:
                with self._redis.pipeline(transaction=False) as pipe:
                    pipe.set(WORKER_KEY + self._ident, json.dumps(info), ex=WORKER_TTL_S)
                    pipe.set(WORKER_SEEN_KEY + self._ident, "1", ex=WORKER_SEEN_S)
                    pipe.execute()
            except Exception as exc:  # Redis restarting: liveness shows stale meanwhile
                _log.warning("worker_beat_failed", error=repr(exc))
            self._stop.wait(WORKER_BEAT_S)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):  # else the keys expire by themselves
            self._redis.delete(WORKER_KEY + self._ident, WORKER_SEEN_KEY + self._ident)


class Sweeper:
    """Takes waiting runs straight from the ledger when this worker has a free slot.

    The doorbell is only an optimisation: a message lost by the broker, or a consumer
    that stopped receiving after a broker restart (it happens: its channel dies without
    its connection noticing), must not leave a run waiting. Claims are atomic, so a run
    taken here and rung elsewhere still runs once.
    """

    def __init__(
        self, ledger: Ledger, runner: RunRunner, concurrency: int, older_than_s: float
    ) -> None:
        self._ledger = ledger
        self._runner = runner
        self._concurrency = concurrency
        self._older_than_s = older_than_s
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="llmgenie-sweep")
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._loop, name="llmgenie-sweeper", daemon=True).start()

    def _loop(self) -> None:
        while not self._stop.wait(SWEEP_S) and not self._runner.draining:
            free = self._concurrency - self._runner.running()
            if free <= 0:
                continue
            try:
                waiting = self._ledger.waiting(self._older_than_s, free)
            except Exception as exc:  # the database blinked: next time
                _log.warning("sweep_failed", error=repr(exc))
                continue
            for run_id in waiting:
                _log.info("run_swept", run_id=run_id)
                self._pool.submit(self._runner.execute, run_id)

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)


def live_workers(redis_url: str) -> list[dict[str, Any]]:
    """The workers whose heartbeat is fresh (for `team status` and the metrics)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        keys = list(client.scan_iter(WORKER_KEY + "*", count=500))
        values = client.mget(keys) if keys else []
    finally:
        client.close()
    return [json.loads(v) for v in values if v]


def lost_workers(redis_url: str) -> int:
    """How many workers stopped beating in the last WORKER_SEEN_S without shutting down
    cleanly (their "seen" key outlived their heartbeat)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        seen = [key.decode() for key in client.scan_iter(WORKER_SEEN_KEY + "*", count=500)]
        beats = [WORKER_KEY + key.removeprefix(WORKER_SEEN_KEY) for key in seen]
        alive = client.mget(beats) if beats else []
    finally:
        client.close()
    return sum(1 for value in alive if value is None)


def _warm_up() -> None:
    """Import litellm and CrewAI before taking runs: the first run should not wait for
    them (seconds), and there is no editor here to keep responsive meanwhile."""
    from llmgenie.agents.crewai_setup import preload
    from llmgenie.litellm_setup import load_litellm

    started = time.monotonic()
    load_litellm()
    preload()
    _log.info("worker_warmed_up", seconds=round(time.monotonic() - started, 2))


def watch_stop_file(
    path: Path, on_stop: Callable[[], None], interval_s: float = 0.5
) -> threading.Thread:
    """Call `on_stop` once, as soon as `path` exists (a Kubernetes preStop hook creates it:
    the worker stops claiming before the SIGTERM that drains it)."""

    def watch() -> None:
        while not path.exists():
            time.sleep(interval_s)
        _log.info("worker_stops_claiming", reason=f"{path} appeared")
        on_stop()

    thread = threading.Thread(target=watch, name="llmgenie-stop-file", daemon=True)
    thread.start()
    return thread


def run_worker(
    team: TeamServerSettings,
    settings: Settings,
    concurrency: int,
    loglevel: str = "INFO",
    metrics: tuple[str, int] | None = None,
    stop_file: Path | None = None,
) -> None:
    """Start a worker and block until it is told to stop (SIGTERM: claim nothing more, let
    running runs finish for up to `drain_s`, hand back the rest, then exit).
    With `metrics` (host, port) it serves Prometheus /metrics and /healthz there; once
    `stop_file` exists it claims nothing more (its runs in progress go on)."""
    if not team.broker_url:
        raise ConfigError("no broker: set LLMGENIE_TEAM_BROKER_URL (amqp://user:pass@host//)")
    if not team.redis_url:
        raise ConfigError("no Redis: set LLMGENIE_TEAM_REDIS_URL (redis://host:6379/0)")
    data_dir = team.data_dir or data_root(settings)
    db = Database(team.database(data_dir / "team"))
    revision = migrate.current_revision(db)
    if revision != migrate.head_revision():
        raise ConfigError(
            f"the database schema is at {revision or 'nothing'}, not "
            f"{migrate.head_revision()}: run `llmgenie team migrate` first"
        )
    _warm_up()
    ident = worker_id()
    app = celery_app(team.broker_url)
    doorbell = CeleryQueue(team.broker_url)
    redis_url = team.redis_url
    runner = RunRunner(
        Ledger(db),
        settings,
        sandbox_root(data_dir),
        RedisTail(redis_url),
        lambda run_id: RedisEditorChannel(redis_url, run_id),
        team.callback_timeout_s,
        team.blobs(data_dir / "team"),
        owner=ident,
        lease_s=team.lease_s,
        on_released=doorbell.enqueue,
        repository_channel=lambda repository_id: RedisRepositoryChannel(redis_url, repository_id),
    )

    register_run_task(app, runner.execute)

    def shutting_down(**_: Any) -> None:
        _log.info("worker_draining", worker=ident, running=runner.running(), grace_s=team.drain_s)
        runner.drain(team.drain_s)

    signals.worker_shutting_down.connect(shutting_down, weak=False)
    if stop_file is not None:
        watch_stop_file(stop_file, runner.stop_claiming)
    beat = WorkerBeat(redis_url, ident, concurrency, runner)
    beat.start()
    sweeper = Sweeper(runner.ledger, runner, concurrency, team.stale_queued_s)
    sweeper.start()
    if metrics is not None:
        serve_metrics(*metrics, healthy=beat.healthy, without=SERVER_ONLY)
    _log.info("worker_started", worker=ident, concurrency=concurrency)
    try:
        worker = app.Worker(
            pool="threads",  # crews wait on model providers: threads, not processes
            concurrency=concurrency,
            queues=[QUEUE],
            hostname=f"llmgenie@{ident}",
            loglevel=loglevel,
            without_mingle=True,
            without_gossip=True,
            optimization="fair",
        )
        worker.start()
    finally:
        runner.drain()  # whatever still works here goes back to the queue
        sweeper.stop()
        beat.stop()
        doorbell.close()
        db.dispose()
        _log.info("worker_stopped", worker=ident)
