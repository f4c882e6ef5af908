"""The observability stack for real, without containers: a team server and two workers as
processes (local PostgreSQL, Redis, RabbitMQ; the scripted model), scraped by Prometheus
(Debian's `prometheus`) with the repository's own scrape configuration and alert rules.

Crews run; Prometheus must report them; a worker killed with SIGKILL must raise the
heartbeat alert; one run's trace must span the server and a worker. The Prometheus
answers the test asserted on are written to a JSON file under $LLMGENIE_TEST_ARTIFACTS
(default: the test's tmp_path).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.deploy.support import OBSERVABILITY, RULES_FILE, tool
from tests.support.model_server import ModelServer, Reply
from tests.team.conftest import (
    TeamServerProcess,
    _free_port,
    final_answer,
    start_team_server,
    stop_team_server,
)
from tests.team.test_workers import Pool, _spans, broker_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = ["broker_url"]  # a fixture, found by pytest under this name

SCRAPE_CONFIG = OBSERVABILITY / "prometheus" / "prometheus.yml"
HEARTBEAT_ALERT = "LlmgenieWorkerHeartbeatLost"
# The rule waits `for: 1m` so that a worker restarting in place does not page; the test
# shortens only that, so it needs seconds and not a minute of waiting.
TEST_FOR = "2s"
RUNS = 3
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, why: Callable[[], str]) -> T:
    """Poll `probe` until it returns something, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{why()}"
        time.sleep(0.2)


@dataclass
class Prometheus:
    """A running Prometheus and what the test asked it."""

    url: str
    proc: subprocess.Popen[str]
    log: Path
    asked: list[dict[str, Any]] = field(default_factory=list)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(self.url + path, params=params, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/query", query=promql)["result"])

    def keep(self, what: str, request: str, answer: Any) -> None:
        """Record an answer the test asserts on (the artifact)."""
        self.asked.append({"what": what, "request": request, "answer": answer})


def prometheus_config(server: str, workers: list[str], rules: Path, itself: str) -> dict[str, Any]:
    """deploy/observability/prometheus/prometheus.yml with this machine's targets.

    Only the targets change (and the intervals, to seconds): the team server's static
    target, the workers' DNS discovery (Docker's) as static targets, the rule files as the
    path of the test's copy. There is no Alertmanager here, so no alerting section: the
    alerts are read from Prometheus itself.
    """
    config = yaml.safe_load(SCRAPE_CONFIG.read_text(encoding="utf-8"))
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [str(rules)]
    config.pop("alerting", None)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["llmgenie-team-server"]["static_configs"] = [{"targets": [server]}]
    worker = jobs["llmgenie-worker"]
    worker.pop("dns_sd_configs")
    worker["static_configs"] = [{"targets": workers}]
    jobs["prometheus"]["static_configs"] = [{"targets": [itself]}]
    return config


def rules_for_the_test(path: Path) -> Path:
    """The repository's rules with only the heartbeat alert's `for` shortened."""
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    changed = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == HEARTBEAT_ALERT:
                rule["for"] = TEST_FOR
                changed += 1
    assert changed == 1, f"{HEARTBEAT_ALERT} is not in {RULES_FILE}"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return path


def start_prometheus(base: Path, server: str, workers: list[str]) -> Prometheus:
    port = _free_port()
    rules = rules_for_the_test(base / "llmgenie.rules.yml")
    config = prometheus_config(server, workers, rules, f"127.0.0.1:{port}")
    config_file = base / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    checked = subprocess.run(
        [tool("promtool"), "check", "config", str(config_file)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = base / "prometheus.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={config_file}",
             f"--storage.tsdb.path={base / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    prom = Prometheus(f"http://127.0.0.1:{port}", proc, log)

    def ready() -> bool | None:
        assert proc.poll() is None, prom.logs()
        try:
            return httpx.get(prom.url + "/-/ready", timeout=2).status_code == 200 or None
        except httpx.HTTPError:
            return None

    wait_for("Prometheus ready", ready, 60, prom.logs)
    return prom


@pytest.fixture
def stack_server(
    tmp_path: Path, pg_database: str, redis_url: str, broker_url: str, team_model: ModelServer
) -> Iterator[TeamServerProcess]:
    # The Redis and broker URLs reach the server and the workers as files, the way the
    # Kubernetes manifests mount them (LLMGENIE_TEAM_*_URL_FILE).
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "redis-url").write_text(redis_url + "\n")
    (secrets / "broker-url").write_text(broker_url + "\n")
    server = start_team_server(
        tmp_path,
        pg_database,
        None,
        team_model,
        LLMGENIE_TEAM_REDIS_URL_FILE=str(secrets / "redis-url"),
        LLMGENIE_TEAM_BROKER_URL_FILE=str(secrets / "broker-url"),
        LLMGENIE_TEAM_LEASE_S="3",
        LLMGENIE_TEAM_REAPER_INTERVAL_S="0.5",
        LLMGENIE_TRACE_DIR=str(tmp_path / "traces"),
    )
    try:
        yield server
    finally:
        stop_team_server(server)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("LLMGENIE_TEST_ARTIFACTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where / f"live-stack-prometheus-{uuid.uuid4().hex[:6]}.json"


def _value(result: list[dict[str, Any]]) -> float | None:
    return float(result[0]["value"][1]) if result else None


def test_prometheus_sees_the_runs_the_lost_worker_and_one_trace(
    stack_server: TeamServerProcess,
    pg_database: str,
    redis_url: str,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    pool = Pool(stack_server, pg_database.replace("+psycopg", ""), redis_url, tmp_path)
    stack_server.model.default_reply = Reply.plain(final_answer("explained"))
    metrics_ports = [_free_port(), _free_port()]
    prom: Prometheus | None = None
    try:
        workers = [pool.start(1, "--metrics", f"127.0.0.1:{port}") for port in metrics_ports]
        for worker in workers:
            pool.wait_ready(worker)
        prom = start_prometheus(
            tmp_path,
            stack_server.url.removeprefix("http://"),
            [f"127.0.0.1:{port}" for port in metrics_ports],
        )

        def all_up() -> list[dict[str, Any]] | None:
            up = prom.query('up{job=~"llmgenie.*"}')
            return up if len(up) == 3 and all(s["value"][1] == "1" for s in up) else None

        up = wait_for("every llmgenie target up", all_up, 60, prom.logs)
        prom.keep("targets up before the runs", 'up{job=~"llmgenie.*"}', up)

        run_ids = pool.submit(RUNS)
        assert pool.wait_ended(run_ids, timeout=90) == dict.fromkeys(run_ids, "succeeded"), (
            pool.diagnostics()
        )

        # The workers count the finished runs; Prometheus adds their counters up.
        finished = 'sum(llmgenie_agent_tasks_total{job="llmgenie-worker",outcome="success"})'

        def runs_reported() -> list[dict[str, Any]] | None:
            result = prom.query(finished)
            return result if _value(result) == RUNS else None

        prom.keep(
            "finished runs", finished, wait_for("runs in Prometheus", runs_reported, 30, prom.logs)
        )
        timed = 'sum(llmgenie_agent_response_time_seconds_count{agent="crew"})'
        timed_runs = prom.query(timed)
        assert _value(timed_runs) == RUNS
        prom.keep("timed runs", timed, timed_runs)
        turns = 'sum by (agent) (llmgenie_agent_response_time_seconds_count{agent!="crew"})'
        timed_turns = prom.query(turns)
        assert sum(float(row["value"][1]) for row in timed_turns) >= RUNS, timed_turns
        prom.keep("timed agent turns", turns, timed_turns)
        workers_seen = prom.query("max(llmgenie_workers)")
        assert _value(workers_seen) == 2
        prom.keep("workers with a heartbeat", "max(llmgenie_workers)", workers_seen)

        # A worker dies without a word: its heartbeat stops, the alert fires.
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].proc.wait(30)

        def heartbeat_alert() -> list[dict[str, Any]] | None:
            alerts = prom.get("/api/v1/alerts")["alerts"]
            mine = [a for a in alerts if a["labels"]["alertname"] == HEARTBEAT_ALERT]
            return mine if any(a["state"] == "firing" for a in mine) else None

        fired = wait_for("the heartbeat alert firing", heartbeat_alert, 60, pool.diagnostics)
        prom.keep("alerts after the SIGKILL", "/api/v1/alerts", fired)
        assert fired[0]["labels"]["severity"] == "warning"
        lost = prom.query("max(llmgenie_workers_lost)")
        assert _value(lost) == 1
        prom.keep("workers lost", "max(llmgenie_workers_lost)", lost)
        left = prom.query("max(llmgenie_workers)")
        assert _value(left) == 1, "the other worker still beats"
        prom.keep("workers with a heartbeat after the SIGKILL", "max(llmgenie_workers)", left)

        # One run's trace: submitted on the server, executed on a worker.
        trace_dir = Path(stack_server.env["LLMGENIE_TRACE_DIR"])

        def trace() -> tuple[dict[str, Any], dict[str, Any]] | None:
            spans = [s for s in _spans(trace_dir) if s["attributes"].get("llmgenie.run_id")]
            by_name = {(s["name"], s["attributes"]["llmgenie.run_id"]): s for s in spans}
            submit, execute = (
                by_name.get(("run.submit", run_ids[0])),
                by_name.get(("run.execute", run_ids[0])),
            )
            return (submit, execute) if submit and execute else None

        submit, execute = wait_for("run spans", trace, 30, pool.diagnostics)
        assert submit["service"] == "llmgenie-team-server"
        assert execute["service"] == "llmgenie-worker"
        assert execute["trace_id"] == submit["trace_id"]
        with stack_server.api() as api:  # the team's run listing names each run's trace
            listed = api.get(f"/teams/{stack_server.team_id}/runs").json()
        traces = {r["run_id"]: r["trace_id"] for r in listed}
        assert traces[run_ids[0]] == submit["trace_id"]
        assert all(traces[run_id] for run_id in run_ids)
    finally:
        if prom is not None:
            artifacts.write_text(json.dumps(prom.asked, indent=2), encoding="utf-8")
            print(f"Prometheus answers asserted on: {artifacts}")
            prom.proc.terminate()
            try:
                prom.proc.wait(30)
            except subprocess.TimeoutExpired:
                prom.proc.kill()
        pool.stop_all()
        stack_server.model.default_reply = None
