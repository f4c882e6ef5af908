"""The worker pool for real: a team server with a RabbitMQ broker, `llmgenie team worker`
processes, PostgreSQL as the ledger and Redis for the live tail; workers are killed,
stopped and the broker restarted while runs work, and every run still ends exactly once.

The scripted model answers slowly, so a run is always in a worker's hands when the test
strikes. Each module gets its own RabbitMQ vhost, database and Redis database.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import redis

from llmgenie.contracts import ids
from tests.support.model_server import Reply
from tests.support.tcp_proxy import TcpProxy
from tests.team.conftest import (
    TeamServerProcess,
    _free_port,
    final_answer,
    start_team_server,
    stop_team_server,
)

LEASE_S = "3"
TERMINAL = {"succeeded", "failed", "cancelled"}


def _rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    """A RabbitMQ vhost of this module's own (no doorbell of another test rings here)."""
    vhost = f"llmgenie-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


@pytest.fixture(scope="module")
def pool_server(
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str,
    redis_url: str,
    broker_url: str,
    team_model: object,
) -> Iterator[TeamServerProcess]:
    base = tmp_path_factory.mktemp("pool")
    server = start_team_server(
        base,
        pg_database,
        redis_url,
        team_model,  # type: ignore[arg-type]
        LLMGENIE_TEAM_BROKER_URL=broker_url,
        LLMGENIE_TEAM_LEASE_S=LEASE_S,
        LLMGENIE_TEAM_REAPER_INTERVAL_S="0.5",
        LLMGENIE_TEAM_STALE_QUEUED_S="5",
        LLMGENIE_TRACE_DIR=str(base / "traces"),  # server and workers write their spans here
    )
    try:
        yield server
    finally:
        stop_team_server(server)


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Pool:
    """Starts `llmgenie team worker` processes and looks at the ledger they share."""

    server: TeamServerProcess
    database_url: str
    redis_url: str
    base: Path
    workers: list[Worker] = field(default_factory=list)

    def start(self, concurrency: int = 1, *extra: str, **env: str) -> Worker:
        log = self.base / f"worker-{len(self.workers)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "llmgenie", "team", "worker",
                 "--concurrency", str(concurrency), "--log-level", "INFO", *extra],
                env={**self.server.env, **env}, stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        worker = Worker(proc, log)
        self.workers.append(worker)
        return worker

    def wait_ready(self, worker: Worker, timeout: float = 180) -> None:
        """Until the worker's heartbeat is in Redis (it consumes from then on)."""
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        try:
            mine = f":{worker.pid}:"
            while not any(mine in k.decode() for k in client.keys("llmgenie:worker:*")):
                assert worker.proc.poll() is None, worker.logs()
                assert time.monotonic() < deadline, worker.logs()
                time.sleep(0.1)
        finally:
            client.close()

    def sql(self, query: str, *args: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return list(conn.execute(query, args).fetchall())

    def holders(self) -> dict[str, int]:
        """run id -> pid of the worker whose lease on it is current."""
        rows = self.sql(
            "SELECT id, lease_owner FROM runs WHERE status = 'running' AND lease_owner IS NOT NULL"
            " AND lease_expires_at > extract(epoch from now())"
        )
        return {str(run_id): int(str(owner).split(":")[1]) for run_id, owner in rows}

    def submit(self, n: int) -> list[str]:
        with self.server.api() as api:
            ids = []
            for i in range(n):
                response = api.post(
                    f"/teams/{self.server.team_id}/runs",
                    json={"crew": "explain", "path": "m.py", "files": {"m.py": f"x = {i}\n"}},
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["run_id"])
            return ids

    def wait_ended(self, run_ids: list[str], timeout: float = 300) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sql("SELECT id, status FROM runs WHERE id = ANY(%s)", run_ids)
            status = {str(r): str(s) for r, s in rows}
            if all(s in TERMINAL for s in status.values()):
                return status
            assert time.monotonic() < deadline, (status, self.diagnostics())
            time.sleep(0.2)

    def diagnostics(self) -> str:
        """The logs' tails (the whole logs are kept in this test's tmp_path)."""
        full = "\n---\n".join([self.server.logs(), *(w.logs() for w in self.workers)])
        (self.base / "diagnostics.log").write_text(full)
        tails = [w.logs()[-2000:] for w in self.workers]
        return "\n---\n".join([self.server.logs()[-3000:], *tails])

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(30)
        self.workers.clear()


@pytest.fixture
def pool(
    pool_server: TeamServerProcess, pg_database: str, redis_url: str, tmp_path: Path
) -> Iterator[Pool]:
    database_url = pg_database.replace("postgresql+psycopg://", "postgresql://")
    pool = Pool(pool_server, database_url, redis_url, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()
        pool_server.model.default_reply = None


def _assert_each_ended_once(pool: Pool, run_ids: list[str]) -> None:
    """One terminal event, one `run_finished` audit entry (with its cost) per run; dense
    sequence numbers; the team's audit chain verifies."""
    for run_id in run_ids:
        kinds = pool.sql("SELECT seq, kind FROM run_events WHERE run_id = %s ORDER BY seq", run_id)
        assert [s for s, _ in kinds] == list(range(1, len(kinds) + 1)), run_id
        terminal = [k for _, k in kinds if k in ("result", "error")]
        assert terminal == [kinds[-1][1]], (run_id, kinds)
        finished = pool.sql(
            "SELECT count(*) FROM audit_log WHERE run_id = %s AND action = 'run_finished'", run_id
        )
        assert finished == [(1,)], run_id
    with pool.server.api() as api:
        report = api.get(f"/teams/{pool.server.team_id}/audit/verify").json()
    assert report["ok"], report


def test_every_run_ends_once_while_the_workers_holding_them_are_killed(pool: Pool) -> None:
    pool.server.model.default_reply = Reply.slow(final_answer("explained"), delay=3)
    first = pool.start()
    pool.start()
    pool.wait_ready(first)
    run_ids = pool.submit(10)
    killed: list[str] = []
    deadline = time.monotonic() + 300
    while len(killed) < 4:  # kill -9 whichever worker holds a run, four times
        assert time.monotonic() < deadline, pool.diagnostics()
        alive = {w.pid: w for w in pool.workers if w.proc.poll() is None}
        victims = [(r, alive[p]) for r, p in pool.holders().items() if p in alive]
        if not victims:
            time.sleep(0.05)
            continue
        run_id, victim = victims[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.proc.wait(30)
        killed.append(run_id)
        pool.start()  # a replacement, as a deployment would
    status = pool.wait_ended(run_ids)
    assert set(status.values()) == {"succeeded"}, (status, pool.diagnostics())
    _assert_each_ended_once(pool, run_ids)
    attempts = dict(pool.sql("SELECT id, attempt FROM runs WHERE id = ANY(%s)", killed))
    assert all(int(str(a)) >= 2 for a in attempts.values()), attempts
    expired = pool.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'lease_expired' AND run_id = ANY(%s)",
        killed,
    )
    assert int(str(expired[0][0])) >= len(set(killed))


def test_sigterm_hands_the_run_to_another_worker(pool: Pool) -> None:
    pool.server.model.script(Reply.slow(final_answer("never seen"), delay=60))  # 1st attempt
    pool.server.model.default_reply = Reply.plain(final_answer("explained"))  # the next one
    leaving = pool.start(1, LLMGENIE_TEAM_LEASE_S="120")  # no expiry under load (see the next test)
    pool.wait_ready(leaving)
    asked = len(pool.server.model.requests)
    [run_id] = pool.submit(1)
    deadline = time.monotonic() + 120
    while pool.holders().get(run_id) != leaving.pid:
        assert time.monotonic() < deadline, pool.diagnostics()
        time.sleep(0.05)
    pool.server.model.wait_for_requests(asked + 1, 60)  # the model thinks: the run is mid-step
    leaving.proc.send_signal(signal.SIGTERM)
    assert leaving.proc.wait(60) == 0, leaving.logs()
    staying = pool.start()  # the handed-back run waits for it
    pool.wait_ready(staying)
    assert pool.wait_ended([run_id]) == {run_id: "succeeded"}, pool.diagnostics()
    _assert_each_ended_once(pool, [run_id])
    rows = pool.sql("SELECT message FROM run_events WHERE run_id = %s", run_id)
    messages = [str(m) for (m,) in rows]
    assert any("handed back" in m for m in messages), messages
    assert pool.sql("SELECT attempt FROM runs WHERE id = %s", run_id) == [(2,)]


def test_sigterm_with_a_drain_period_lets_the_run_finish_where_it_is(pool: Pool) -> None:
    # The model answers 5 s after it is asked: the signal arrives while it thinks.
    pool.server.model.script(Reply.slow(final_answer("finished before leaving"), delay=5))
    # This test is about the drain, not about leases: the pool's 3 s lease can expire
    # under a CPU hog (a heartbeat late by 2 s), and the reaper then rightly re-queues the
    # run, which the only worker, leaving, never takes again. A long lease rules that out.
    leaving = pool.start(1, LLMGENIE_TEAM_DRAIN_S="120", LLMGENIE_TEAM_LEASE_S="120")
    pool.wait_ready(leaving)
    asked = len(pool.server.model.requests)
    [run_id] = pool.submit(1)
    pool.server.model.wait_for_requests(asked + 1, 120)
    leaving.proc.send_signal(signal.SIGTERM)
    assert leaving.proc.wait(120) == 0, leaving.logs()
    assert pool.wait_ended([run_id], timeout=10) == {run_id: "succeeded"}, pool.diagnostics()
    _assert_each_ended_once(pool, [run_id])
    messages = [
        str(m) for (m,) in pool.sql("SELECT message FROM run_events WHERE run_id = %s", run_id)
    ]
    assert not any("handed back" in m for m in messages), messages
    assert pool.sql("SELECT attempt FROM runs WHERE id = %s", run_id) == [(1,)]
    with pool.server.api() as api:
        run = api.get(f"/teams/{pool.server.team_id}/runs/{run_id}").json()
    assert run["result"]["message"] == "finished before leaving"


def test_a_cancel_is_acknowledged_at_once_and_stops_the_run(pool: Pool) -> None:
    pool.server.model.default_reply = Reply.slow(final_answer("too late"), delay=120)
    worker = pool.start()
    pool.wait_ready(worker)
    [run_id] = pool.submit(1)
    deadline = time.monotonic() + 120
    while run_id not in pool.holders():
        assert time.monotonic() < deadline, pool.diagnostics()
        time.sleep(0.05)
    with pool.server.api() as api:
        acknowledged = api.post(f"/teams/{pool.server.team_id}/runs/{run_id}/cancel")
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["cancel_requested"] is True, acknowledged.json()
    assert pool.wait_ended([run_id], timeout=10) == {run_id: "cancelled"}, pool.diagnostics()
    _assert_each_ended_once(pool, [run_id])
    assert worker.proc.poll() is None, "the worker lives on"


def test_no_run_is_lost_when_the_broker_restarts(pool: Pool) -> None:
    pool.server.model.default_reply = Reply.slow(final_answer("explained"), delay=1)
    port = _free_port()
    worker = pool.start(2, "--metrics", f"127.0.0.1:{port}")
    pool.wait_ready(worker)
    before = pool.submit(3)
    _rabbitmqctl("stop_app")
    try:
        during = pool.submit(3)  # accepted: the ledger has them; their doorbell fails
    finally:
        _rabbitmqctl("start_app")
    _rabbitmqctl("await_startup")
    status = pool.wait_ended(before + during)
    assert set(status.values()) == {"succeeded"}, (status, pool.diagnostics())
    _assert_each_ended_once(pool, before + during)
    # The worker's own /metrics counts what it ran; /healthz says it is alive.
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    done = 'llmgenie_agent_tasks_total{agent="crew",crew="explain",outcome="success"} 6.0'
    assert done in metrics, [m for m in metrics.splitlines() if "tasks_total" in m]
    assert "llmgenie_workers" not in metrics, "the pool's gauges come from the server only"
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


def test_a_run_whose_doorbell_was_lost_still_runs(pool: Pool, broker_url: str) -> None:
    pool.server.model.default_reply = Reply.plain(final_answer("explained"))
    run_ids = pool.submit(2)  # no worker yet: the doorbells wait in the queue...
    _rabbitmqctl("purge_queue", "-p", broker_url.rsplit("/", 1)[1], "llmgenie.runs")  # ...gone
    worker = pool.start()
    pool.wait_ready(worker)
    status = pool.wait_ended(run_ids)
    assert set(status.values()) == {"succeeded"}, (status, pool.diagnostics())
    _assert_each_ended_once(pool, run_ids)
    # The files went to the blob store: the run rows hold their digests, not their text.
    for (context,) in pool.sql("SELECT context::text FROM runs WHERE id = ANY(%s)", run_ids):
        assert '"bundle"' in str(context) and "x = " not in str(context), context


@dataclass
class Host:
    """A network namespace joined to this one by a veth pair: another machine, as far as
    TCP is concerned. `ip` is this side's address; the services are reachable there."""

    name: str
    ip: str
    proxies: list[TcpProxy] = field(default_factory=list)

    def expose(self, url: str) -> str:
        """`url` (a service on 127.0.0.1) as the other host reaches it: through a proxy
        listening on this side of the veth pair."""
        parsed = urlsplit(url)
        assert parsed.hostname and parsed.port, url
        proxy = TcpProxy(parsed.hostname, parsed.port, listen_host=self.ip).start()
        self.proxies.append(proxy)
        here = f"{parsed.hostname}:{parsed.port}"
        netloc = parsed.netloc.replace(here, f"{self.ip}:{proxy.port}")
        return urlunsplit(parsed._replace(netloc=netloc))


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (args, done.stderr)


@pytest.fixture
def other_host() -> Iterator[Host]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    tag = uuid.uuid4().hex[:6]
    name, outer, inner = f"lg-{tag}", f"lgo{tag}", f"lgi{tag}"
    octet = int(tag[:2], 16) % 250 + 1
    here, there = f"10.231.{octet}.1", f"10.231.{octet}.2"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", name)
        _ip("addr", "add", f"{here}/30", "dev", outer)
        _ip("link", "set", outer, "up")
        _ip("-n", name, "addr", "add", f"{there}/30", "dev", inner)
        _ip("-n", name, "link", "set", inner, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        host = Host(name, here)
        yield host
        for proxy in host.proxies:
            proxy.stop()
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
        subprocess.run(["ip", "link", "delete", outer], capture_output=True)


def test_workers_on_another_host_run_the_team_servers_runs(
    pool: Pool, other_host: Host, pg_database: str, redis_url: str, broker_url: str
) -> None:
    """The team server here, a worker in another network namespace reaching PostgreSQL,
    Redis, RabbitMQ and the model over a veth link (not loopback)."""
    server = pool.server
    server.model.default_reply = Reply.plain(final_answer("explained from afar"))
    env = {
        **server.env,
        "LLMGENIE_TEAM_DATABASE_URL": other_host.expose(pg_database),
        "LLMGENIE_TEAM_REDIS_URL": other_host.expose(redis_url),
        "LLMGENIE_TEAM_BROKER_URL": other_host.expose(broker_url),
        "LLMGENIE_LLM__API_BASE": other_host.expose(server.model.url),
    }
    log = pool.base / "remote-worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", other_host.name, sys.executable, "-m", "llmgenie",
             "team", "worker", "--concurrency", "2", "--log-level", "INFO"],
            env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    remote = Worker(proc, log)
    pool.workers.append(remote)
    pool.wait_ready(remote)
    run_ids = pool.submit(4)
    status = pool.wait_ended(run_ids)
    assert set(status.values()) == {"succeeded"}, (status, pool.diagnostics())
    _assert_each_ended_once(pool, run_ids)
    finished = {
        json.loads(line)["run_id"]
        for line in remote.logs().splitlines()
        if '"team_run_finished"' in line
    }
    assert finished == set(run_ids), "the worker on the other host ran them all"
    assert all(p.connections > 0 for p in other_host.proxies), "every service went over the link"


REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]  # fmt: skip  (the command scripts/services.sh starts Redis with)


def _restart_redis() -> None:
    """Stop the machine's Redis (it keeps nothing on disk: everything in it is gone) and
    start it again, as an operator's restart would."""
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    os.makedirs("/var/lib/redis", exist_ok=True)
    os.makedirs("/var/log/redis", exist_ok=True)
    subprocess.run(REDIS_START, check=True, capture_output=True, timeout=30)
    deadline = time.monotonic() + 30
    while subprocess.run(["redis-cli", "ping"], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "Redis did not come back"
        time.sleep(0.1)


async def _subscribe(
    server: TeamServerProcess, run_id: str, after: int, on_first: Any = None
) -> list[dict[str, Any]]:
    """Subscribe over the WebSocket after `after`; the events until the run's last one."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {server.admin_token}"}
    async with connect(server.ws_url, additional_headers=headers, proxy=None) as ws:
        params = {"runId": run_id, "after": after}
        request = {"jsonrpc": "2.0", "id": 1, "method": ids.METHOD_RUNS_SUBSCRIBE, "params": params}
        await ws.send(json.dumps(request))
        events: list[dict[str, Any]] = []
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message.get("method") != ids.NOTIFY_RUN_EVENT:
                assert "error" not in message, message
                continue
            events.append(message["params"])
            if on_first is not None and len(events) == 1:
                await asyncio.to_thread(on_first)
            if message["params"]["data"].get("status") in TERMINAL:
                return events


def test_subscribers_see_every_event_once_across_a_redis_restart(pool: Pool) -> None:
    pool.server.model.default_reply = Reply.slow(final_answer("explained"), delay=3)
    worker = pool.start()
    pool.wait_ready(worker)
    [run_id] = pool.submit(1)
    # Redis (the live tail, sessions, worker beats) restarts right after the first event.
    events = asyncio.run(_subscribe(pool.server, run_id, 0, on_first=_restart_redis))
    assert pool.wait_ended([run_id]) == {run_id: "succeeded"}, pool.diagnostics()
    ledger = pool.sql("SELECT seq FROM run_events WHERE run_id = %s ORDER BY seq", run_id)
    assert [e["seq"] for e in events] == [s for (s,) in ledger], "no gap, no duplicate"
    # An editor that saw the first two events resumes after them: exactly the rest.
    resumed = asyncio.run(_subscribe(pool.server, run_id, 2))
    assert [e["seq"] for e in resumed] == [s for (s,) in ledger][2:]


def _spans(trace_dir: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(trace_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def test_one_trace_spans_the_server_the_worker_and_the_model_call(pool: Pool) -> None:
    pool.server.model.default_reply = Reply.plain(final_answer("explained"))
    worker = pool.start()
    pool.wait_ready(worker)
    [run_id] = pool.submit(1)
    assert pool.wait_ended([run_id]) == {run_id: "succeeded"}, pool.diagnostics()
    trace_dir = Path(pool.server.env["LLMGENIE_TRACE_DIR"])
    deadline = time.monotonic() + 60
    while True:  # a span is written when it ends: run.execute ends after the run did
        spans = _spans(trace_dir)
        mine = [s for s in spans if s["attributes"].get("llmgenie.run_id") == run_id]
        if {s["name"] for s in mine} >= {"run.submit", "run.execute"}:
            break
        assert time.monotonic() < deadline, mine
        time.sleep(0.1)
    submit = next(s for s in mine if s["name"] == "run.submit")
    execute = next(s for s in mine if s["name"] == "run.execute")
    assert submit["service"] == "llmgenie-team-server" and execute["service"] == "llmgenie-worker"
    assert execute["trace_id"] == submit["trace_id"]
    assert execute["parent_id"] == submit["span_id"], "the worker continued the submit's span"
    calls = [s for s in spans if s["name"] == "model.call" and s["trace_id"] == submit["trace_id"]]
    assert calls and all(c["service"] == "llmgenie-worker" for c in calls)
    with pool.server.api() as api:
        run = api.get(f"/teams/{pool.server.team_id}/runs/{run_id}").json()
    assert run["trace_id"] == submit["trace_id"], "the run names its trace"
    logged = [json.loads(x) for x in worker.logs().splitlines() if '"team_run_finished"' in x]
    assert [e.get("trace_id") for e in logged] == [submit["trace_id"]], "logs carry the trace"
