"""A real team server for the tests: `llmgenie team serve` as its own process, on the
machine's PostgreSQL (a fresh database per module) and Redis (a database index of its own,
flushed), with the scripted model server as its agents' model.

`.ci/run` starts PostgreSQL and Redis when they are down; a test module here needs both.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fixtures import DUMMY_API_KEY, SCRIPTED_MODEL
from tests.support.model_server import ModelServer

PG_ADMIN = os.environ.get("LLMGENIE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("LLMGENIE_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = 11
JWT_KEY = "test-signing-key-" + "k" * 32
ADMIN_PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module (dropped afterwards)."""
    import psycopg

    name = f"llmgenie_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    import redis

    url = f"{REDIS}/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@dataclass
class TeamServerProcess:
    """A running `llmgenie team serve`, its admin and the model server its agents use."""

    url: str
    proc: subprocess.Popen[str]
    env: dict[str, str]
    model: ModelServer
    team_id: str = ""
    admin_token: str = ""
    admin_id: str = ""
    log: Path = field(default_factory=Path)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/lsp"

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30)

    def add_member(self, email: str, role: str, team: str | None = None) -> tuple[str, str]:
        """A member of `team` (default: the admin's) and a personal token of theirs."""
        with self.api() as api:
            member = api.post(
                f"/teams/{team or self.team_id}/members",
                json={"email": email, "role": role, "password": ADMIN_PASSWORD},
            )
            assert member.status_code == 201, member.text
        token = self.login(email)
        with self.api(token) as api:
            pat = api.post("/tokens", json={"name": "tests", "expires_in_days": 7})
            assert pat.status_code == 201, pat.text
        return member.json()["user_id"], pat.json()["token"]

    def login(self, email: str, password: str = ADMIN_PASSWORD) -> str:
        response = httpx.post(
            self.url + "/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def create_team(self, name: str, email: str) -> dict[str, str]:
        """Another team with its own admin: {team_id, user_id, token}."""
        created = subprocess.run(
            [sys.executable, "-m", "llmgenie", "team", "create-admin", "--team", name,
             "--email", email, "--password-stdin"],
            env=self.env, input=ADMIN_PASSWORD + "\n", capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        return dict(json.loads(created.stdout))

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_team_server(
    base: Path, database_url: str, redis_url: str | None, model: ModelServer, **extra: str
) -> TeamServerProcess:
    """Create the admin, start the server process, wait until /readyz answers."""
    port = _free_port()
    env = {
        **os.environ,
        "LLMGENIE_TEAM_DATABASE_URL": database_url,
        "LLMGENIE_TEAM_JWT_KEY": JWT_KEY,
        "LLMGENIE_TEAM_DATA_DIR": str(base / "team-data"),
        "LLMGENIE_LLM__MODEL": SCRIPTED_MODEL,
        "LLMGENIE_LLM__API_BASE": model.url,
        "LLMGENIE_LLM__API_KEY": DUMMY_API_KEY,
        "LLMGENIE_LLM__TIMEOUT_S": "30",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **extra,
    }
    if redis_url:
        env["LLMGENIE_TEAM_REDIS_URL"] = redis_url
    # A deployment's environment, not this test process's: importing CrewAI here (other
    # tests do) sets OTEL_SDK_DISABLED, which would switch the servers' tracing off.
    env.pop("OTEL_SDK_DISABLED", None)
    cli = [sys.executable, "-m", "llmgenie"]
    migrated = subprocess.run(
        [*cli, "team", "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    created = subprocess.run(
        [*cli, "team", "create-admin", "--team", f"team-{secrets.token_hex(3)}",
         "--email", f"admin-{secrets.token_hex(3)}@example.com", "--password-stdin"],
        env=env, input=ADMIN_PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    admin = json.loads(created.stdout)
    log = base / f"team-server-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cli, "team", "serve", "--port", str(port), "--log-level", "INFO"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = TeamServerProcess(
        url=f"http://127.0.0.1:{port}",
        proc=proc,
        env=env,
        model=model,
        team_id=admin["team_id"],
        admin_token=admin["token"],
        admin_id=admin["user_id"],
        log=log,
    )
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"team server exited {proc.returncode}:\n{server.logs()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"team server never became ready:\n{server.logs()}")
        time.sleep(0.1)


def stop_team_server(server: TeamServerProcess) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(10)


@pytest.fixture(scope="module")
def team_model() -> Iterator[ModelServer]:
    server = ModelServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def team_server(
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str,
    redis_url: str,
    team_model: ModelServer,
) -> Iterator[TeamServerProcess]:
    """One team server per test module (starting one takes seconds)."""
    server = start_team_server(tmp_path_factory.mktemp("team"), pg_database, redis_url, team_model)
    try:
        yield server
    finally:
        stop_team_server(server)


def final_answer(message: str, **extra: Any) -> str:
    """A scripted final answer in the crews' report format."""
    return json.dumps({"message": message, "edits": [], "findings": [], **extra})
