"""Team-server benchmark: many authenticated WebSocket sessions doing non-model requests.

    python -m bench.team_bench [--sessions 500] [--rounds 5] [--think-ms 2000] [--pg URL]

Starts a real `llmgenie team serve` (uvicorn, PostgreSQL, Redis) on a fresh database,
seeds a few runs, then opens N WebSocket sessions (each authenticated in its upgrade
header) and, once all are open, has every session do R rounds of `llmgenie/runs/status`,
`llmgenie/runs/list` and `llmgenie/runs/events`, pausing a think time between requests
like an editor does (uniform in 0.5x..1.5x --think-ms; 0 = back to back, a saturation
test). Prints one JSON object with p50/p95/p99 latency per method and overall, the
connect latency, the offered and served request rates, and errors. The load generator
runs on the same machine as the server (they share its cores): figures are pessimistic.
Budget (DESIGN.md): p99 < 500 ms with 500 sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect

from bench.machine import describe

CLI = [sys.executable, "-m", "llmgenie"]
PASSWORD = "bench-password-0123456789"
USERS = 10


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _summary(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "p99_ms": round(_pct(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    base: Path, database_url: str, redis_url: str
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    port = _free_port()
    env = {
        **os.environ,
        "LLMGENIE_TEAM_DATABASE_URL": database_url,
        "LLMGENIE_TEAM_REDIS_URL": redis_url,
        "LLMGENIE_TEAM_JWT_KEY": uuid.uuid4().hex * 2,
        "LLMGENIE_TEAM_DATA_DIR": str(base / "data"),
        # One user drives many sessions here; the per-user limit is not what is measured.
        "LLMGENIE_TEAM_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    subprocess.run([*CLI, "team", "migrate"], env=env, check=True, capture_output=True)
    admin = json.loads(
        subprocess.run(
            [*CLI, "team", "create-admin", "--team", "bench", "--email", "admin@bench.local"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    env["BENCH_TEAM"] = admin["team_id"]
    env["BENCH_ADMIN_TOKEN"] = admin["token"]
    log = (base / "server.log").open("w")
    proc = subprocess.Popen(
        [*CLI, "team", "serve", "--port", str(port), "--log-level", "WARNING"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url, env
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the team server did not start; see " + str(base / "server.log"))
        time.sleep(0.1)


def seed(url: str, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Users with personal tokens, and a few runs to ask about."""
    team, admin = env["BENCH_TEAM"], env["BENCH_ADMIN_TOKEN"]
    headers = {"Authorization": f"Bearer {admin}"}
    tokens: list[str] = []
    with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=60) as api:
        for n in range(USERS):
            email = f"user{n}@bench.local"
            api.post(
                f"/teams/{team}/members",
                json={"email": email, "role": "member", "password": PASSWORD},
            ).raise_for_status()
            access = httpx.post(
                url + "/api/v1/auth/token",
                data={"grant_type": "password", "username": email, "password": PASSWORD},
            ).json()["access_token"]
            pat = httpx.post(
                url + "/api/v1/tokens",
                json={"name": "bench", "expires_in_days": 1},
                headers={"Authorization": f"Bearer {access}"},
            )
            pat.raise_for_status()
            tokens.append(pat.json()["token"])
        runs = [
            api.post(
                f"/teams/{team}/runs",
                json={"crew": "explain", "path": "a.py", "files": {"a.py": f"x = {i}\n"}},
            ).json()["run_id"]
            for i in range(5)
        ]
    return tokens, runs


async def session(
    ws_url: str,
    token: str,
    runs: list[str],
    rounds: int,
    think_s: float,
    start: asyncio.Event,
    out: dict[str, Any],
) -> None:
    begun = time.perf_counter()
    async with connect(
        ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        proxy=None,
        open_timeout=120,
        ping_interval=None,
    ) as ws:
        out["connect"].append((time.perf_counter() - begun) * 1000)
        ids = iter(range(1, 1_000_000))

        async def call(method: str, params: dict[str, Any]) -> None:
            msg_id = next(ids)
            sent = time.perf_counter()
            await ws.send(
                json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            )
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == msg_id:
                    break
            out.setdefault(method, []).append((time.perf_counter() - sent) * 1000)
            if "error" in reply:
                out["errors"].append(reply["error"].get("message", ""))

        await call("initialize", {})
        await start.wait()  # every session is connected: now the load starts

        async def think() -> None:
            if think_s > 0:
                await asyncio.sleep(think_s * (0.5 + random.random()))

        await think()
        for r in range(rounds):
            run = runs[r % len(runs)]
            await call("llmgenie/runs/status", {"runId": run})
            await think()
            await call("llmgenie/runs/list", {"limit": 20})
            await think()
            await call("llmgenie/runs/events", {"runId": run, "after": 0})
            await think()


async def load(
    url: str, tokens: list[str], runs: list[str], sessions: int, rounds: int, think_s: float
) -> dict[str, Any]:
    ws_url = url.replace("http://", "ws://") + "/lsp"
    out: dict[str, Any] = {"connect": [], "errors": []}
    start = asyncio.Event()
    tasks = [
        asyncio.ensure_future(
            session(ws_url, tokens[i % len(tokens)], runs, rounds, think_s, start, out)
        )
        for i in range(sessions)
    ]
    while len(out["connect"]) < sessions and not any(t.done() for t in tasks):
        await asyncio.sleep(0.05)
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    methods = ["llmgenie/runs/status", "llmgenie/runs/list", "llmgenie/runs/events"]
    every = [ms for m in methods for ms in out.get(m, [])]
    return {
        "sessions": sessions,
        "rounds": rounds,
        "think_ms": round(think_s * 1000),
        "offered_requests_per_s": round(sessions / think_s, 1) if think_s else None,
        "requests": len(every),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(every) / wall, 1),
        "connect": _summary(out["connect"]),
        "all_requests": _summary(every),
        **{m: _summary(out.get(m, [])) for m in methods},
        "errors": len(out["errors"]),
        "error_samples": out["errors"][:3],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--think-ms", type=float, default=2000.0)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args(argv)
    name = f"llmgenie_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = (
        "postgresql+psycopg://" + args.pg.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name
    )
    result: dict[str, Any] = {"machine": describe("bench.team_bench", argv or sys.argv[1:])}
    with tempfile.TemporaryDirectory(prefix="team-bench-") as tmp:
        proc, url, env = start_server(Path(tmp), database_url, args.redis)
        try:
            _log("seeding users and runs")
            tokens, runs = seed(url, env)
            _log(f"{args.sessions} sessions x {args.rounds} rounds")
            result["websocket"] = asyncio.run(
                load(url, tokens, runs, args.sessions, args.rounds, args.think_ms / 1000)
            )
        finally:
            proc.terminate()
            proc.wait(30)
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
