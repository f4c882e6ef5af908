"""Worker-pool benchmark: run throughput on 1, 2 and 4 workers, and submit-to-start latency;
or, with --chaos N, N runs through 3 workers while one holding a run is killed (-9) again
and again.

    python -m bench.pool_bench [--workers 1,2,4] [--runs-per-worker 8] [--latency 2.0]
                               [--starts 20] [--pg URL] [--redis URL] [--amqp URL]
    python -m bench.pool_bench --chaos 60 [--kill-every 4] [--latency 2.0]

Starts a real `llmgenie team serve` with a RabbitMQ broker on a fresh PostgreSQL database,
a Redis database and a RabbitMQ vhost of its own, and the scripted model server answering
every call after `--latency` seconds (a model provider's latency; the crews' own work is
real). For each pool size N it starts N `llmgenie team worker --concurrency 1` processes,
submits N x runs-per-worker headless `explain` runs at once and measures the time from the
first submit to the last run's end: throughput = runs / seconds, and its ratio to 1 worker
(issue goal: >= 3.6x at 4 workers). Then, with one idle worker, it submits `--starts` runs
one after the other and measures submit -> first "running" event (the queue's latency).
Prints one JSON object. Server, workers, model and load share this machine's cores.

Chaos: leases of 5 s; every `--kill-every` seconds a worker that holds a run is killed with
SIGKILL and a new one started. When every run has ended, each must have exactly one
terminal event and one `run_finished` audit record, and the team's audit chain must verify.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tests.support.model_server import ModelServer, Reply

from bench.machine import describe

CLI = [sys.executable, "-m", "llmgenie"]
TERMINAL = ("succeeded", "failed", "cancelled")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _answer() -> str:
    return json.dumps({"message": "explained", "edits": [], "findings": []})


class Stack:
    """The team server, its workers and the services they share, for one benchmark."""

    def __init__(
        self, base: Path, pg_admin: str, redis_url: str, amqp: str, **extra_env: str
    ) -> None:
        self.base = base
        self.pg_admin = pg_admin
        self.db = f"llmgenie_bench_{uuid.uuid4().hex[:8]}"
        self.vhost = f"llmgenie-bench-{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        self._rabbitmqctl("add_vhost", self.vhost)
        self._rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.model = ModelServer().start()
        host = pg_admin.split("://", 1)[1].rsplit("/", 1)[0]
        self.env = {
            **os.environ,
            "LLMGENIE_TEAM_DATABASE_URL": f"postgresql+psycopg://{host}/{self.db}",
            "LLMGENIE_TEAM_REDIS_URL": redis_url,
            "LLMGENIE_TEAM_BROKER_URL": f"{amqp.rstrip('/')}/{self.vhost}",
            "LLMGENIE_TEAM_JWT_KEY": uuid.uuid4().hex * 2,
            "LLMGENIE_TEAM_DATA_DIR": str(base / "data"),
            "LLMGENIE_TEAM_RATE_LIMIT_PER_MINUTE": "1000000",
            "LLMGENIE_LLM__MODEL": "openai/scripted-model",
            "LLMGENIE_LLM__API_BASE": self.model.url,
            "LLMGENIE_LLM__API_KEY": "sk-bench",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **extra_env,
        }
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.url = ""
        self.team = ""
        self.token = ""

    @staticmethod
    def _rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True)

    def start_server(self) -> None:
        subprocess.run([*CLI, "team", "migrate"], env=self.env, check=True, capture_output=True)
        admin = json.loads(
            subprocess.run(
                [*CLI, "team", "create-admin", "--team", "bench", "--email", "a@bench.local"],
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        self.team, self.token = admin["team_id"], admin["token"]
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/api/v1"
        log = (self.base / "server.log").open("w")
        self.server = subprocess.Popen(
            [*CLI, "team", "serve", "--port", str(port), "--log-level", "WARNING"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.server.poll() is not None:
                raise SystemExit("the team server did not start: see server.log")
            time.sleep(0.2)

    def scale(self, n: int) -> None:
        """Exactly `n` workers (concurrency 1), each consuming before this returns."""
        while len(self.workers) > n:
            worker = self.workers.pop()
            worker.terminate()
            worker.wait(120)
        while len(self.workers) < n:
            self.workers.append(self._worker())
        # Warm: a few runs per worker first, so first-run costs are not measured.
        self.run_batch(3 * n, wait=True)

    def _worker(self) -> subprocess.Popen[bytes]:
        self._started = getattr(self, "_started", 0) + 1
        log = (self.base / f"worker-{self._started}.log").open("w")
        return subprocess.Popen(
            [*CLI, "team", "worker", "--concurrency", "1", "--log-level", "WARNING"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def sql(self, query: str, *args: object) -> list[tuple[Any, ...]]:
        url = self.env["LLMGENIE_TEAM_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as conn:
            return list(conn.execute(query, args).fetchall())

    def chaos(self, runs: int, kill_every: float) -> dict[str, Any]:
        """`runs` runs through 3 workers while holders are killed; what each run left."""
        self.scale(3)
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
            started = time.perf_counter()
            ids = [self.submit(client) for _ in range(runs)]
            kills = 0
            while True:
                done = self.sql(
                    "SELECT count(*) FROM runs WHERE id = ANY(%s) AND status = ANY(%s)",
                    ids,
                    list(TERMINAL),
                )[0][0]
                if done == runs:
                    break
                time.sleep(kill_every)
                holders = self.sql(
                    "SELECT DISTINCT lease_owner FROM runs WHERE status = 'running'"
                    " AND lease_expires_at > extract(epoch from now())"
                )
                pids = {int(str(owner).split(":")[1]) for (owner,) in holders if owner}
                victim = next((w for w in self.workers if w.pid in pids), None)
                if victim is not None:
                    victim.kill()
                    victim.wait(30)
                    self.workers[self.workers.index(victim)] = self._worker()
                    kills += 1
                    _log(f"killed a worker holding a run ({kills}); {done}/{runs} ended")
            seconds = time.perf_counter() - started
            report = client.get(f"/teams/{self.team}/audit/verify").json()
        statuses = dict(
            self.sql("SELECT status, count(*) FROM runs WHERE id = ANY(%s) GROUP BY 1", ids)
        )
        terminal_events = self.sql(
            "SELECT run_id, count(*) FROM run_events WHERE run_id = ANY(%s)"
            " AND kind IN ('result', 'error') GROUP BY 1",
            ids,
        )
        finished = self.sql(
            "SELECT run_id, count(*) FROM audit_log WHERE run_id = ANY(%s)"
            " AND action = 'run_finished' GROUP BY 1",
            ids,
        )
        attempts = [a for (a,) in self.sql("SELECT attempt FROM runs WHERE id = ANY(%s)", ids)]
        errors = self.sql(
            "SELECT left(error, 120), count(*) FROM runs WHERE id = ANY(%s)"
            " AND error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC",
            ids,
        )
        return {
            "runs": runs,
            "kills": kills,
            "seconds": round(seconds, 1),
            "statuses": statuses,
            "runs_with_one_terminal_event": sum(1 for _, c in terminal_events if c == 1),
            "runs_with_one_run_finished_audit": sum(1 for _, c in finished if c == 1),
            "runs_resumed_elsewhere": sum(1 for a in attempts if a > 1),
            "max_attempt": max(attempts),
            "errors": {str(e): n for e, n in errors},
            "audit_chain_ok": report.get("ok"),
            "audit_records": report.get("records"),
        }

    def submit(self, client: httpx.Client) -> str:
        response = client.post(
            f"/teams/{self.team}/runs",
            json={"crew": "explain", "path": "m.py", "files": {"m.py": "x = 1\n"}},
        )
        response.raise_for_status()
        return str(response.json()["run_id"])

    def wait(self, run_ids: list[str]) -> None:
        host = self.env["LLMGENIE_TEAM_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(host) as conn:
            while True:
                rows = conn.execute(
                    "SELECT count(*) FROM runs WHERE id = ANY(%s) AND status = ANY(%s)",
                    (run_ids, list(TERMINAL)),
                ).fetchone()
                conn.commit()
                if rows and rows[0] == len(run_ids):
                    return
                time.sleep(0.05)

    def run_batch(self, n: int, wait: bool = True) -> float:
        """Submit `n` runs at once; seconds until the last one ended."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with (
            httpx.Client(base_url=self.url, headers=headers, timeout=60) as client,
            ThreadPoolExecutor(8) as pool,  # submitted at once, as a team's CI would
        ):
            started = time.perf_counter()
            ids = list(pool.map(lambda _: self.submit(client), range(n)))
            if wait:
                self.wait(ids)
            return time.perf_counter() - started

    def start_latency(self, count: int) -> list[float]:
        """Submit -> the run's first event, one run at a time on an idle pool (ms)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        out: list[float] = []
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
            for _ in range(count):
                submitted = time.time()
                run_id = self.submit(client)
                self.wait([run_id])
                events = client.get(f"/teams/{self.team}/runs/{run_id}/events").json()
                first = events["events"][0]["at"]
                out.append((first - submitted) * 1000)
        return out

    def close(self) -> None:
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.model.stop()
        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--runs-per-worker", type=int, default=8)
    parser.add_argument("--latency", type=float, default=2.0, help="model latency, seconds")
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672")
    parser.add_argument("--chaos", type=int, default=0, help="runs of the kill -9 benchmark")
    parser.add_argument("--kill-every", type=float, default=4.0)
    args = parser.parse_args(argv)
    if args.chaos:
        return _chaos(args)
    sizes = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="llmgenie-pool-bench-") as tmp:
        stack = Stack(Path(tmp), args.pg, args.redis, args.amqp)
        try:
            stack.model.default_reply = Reply.slow(_answer(), delay=args.latency)
            stack.start_server()
            throughput: dict[str, Any] = {}
            for n in sizes:
                stack.scale(n)
                runs = n * args.runs_per_worker
                seconds = stack.run_batch(runs)
                throughput[str(n)] = {
                    "runs": runs,
                    "seconds": round(seconds, 2),
                    "runs_per_s": round(runs / seconds, 3),
                }
                _log(f"{n} worker(s): {runs} runs in {seconds:.1f} s")
            base = throughput[str(sizes[0])]["runs_per_s"]
            for n in sizes:
                throughput[str(n)]["speedup"] = round(throughput[str(n)]["runs_per_s"] / base, 2)
            stack.scale(1)
            starts = stack.start_latency(args.starts)
        finally:
            stack.close()
    report = {
        "machine": describe("bench.pool_bench", sys.argv[1:] if argv is None else argv),
        "model_latency_s": args.latency,
        "throughput": throughput,
        "submit_to_start_ms": {
            "n": len(starts),
            "p50": round(statistics.median(starts), 1),
            "p95": round(_pct(starts, 0.95), 1),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


def _chaos(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="llmgenie-pool-chaos-") as tmp:
        stack = Stack(
            Path(tmp),
            args.pg,
            args.redis,
            args.amqp,
            LLMGENIE_TEAM_LEASE_S="5",
            LLMGENIE_TEAM_REAPER_INTERVAL_S="1",
        )
        try:
            stack.model.default_reply = Reply.slow(_answer(), delay=args.latency)
            stack.start_server()
            result = stack.chaos(args.chaos, args.kill_every)
        finally:
            stack.close()
    report = {
        "machine": describe("bench.pool_bench", sys.argv[1:]),
        "model_latency_s": args.latency,
        "chaos": result,
    }
    print(json.dumps(report, indent=2))
    intact = (
        result["runs_with_one_terminal_event"] == result["runs"]
        and result["runs_with_one_run_finished_audit"] == result["runs"]
        and result["audit_chain_ok"]
    )
    return 0 if intact else 1


if __name__ == "__main__":
    raise SystemExit(main())
