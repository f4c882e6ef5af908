"""`llmgenie team serve --dev`: one developer, no PostgreSQL or Redis; and `llmgenie login`."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dev_mode_needs_no_services_and_prints_a_token(tmp_path: Path) -> None:
    """--dev on SQLite without Redis, serving TLS itself (a self-signed certificate)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = _free_port()
    env = {
        **os.environ,
        "LLMGENIE_TEAM_DATA_DIR": str(tmp_path / "team"),
        "LLMGENIE_TEAM_DATABASE_URL": "",
        "LLMGENIE_TEAM_REDIS_URL": "",
    }
    env = {k: v for k, v in env.items() if v != ""}
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llmgenie",
                "team",
                "serve",
                "--dev",
                "--port",
                str(port),
                "--tls-cert",
                str(tmp_path / "cert.pem"),
                "--tls-key",
                str(tmp_path / "key.pem"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        token = None
        while token is None:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            match = re.search(r"one-time token \(1 day\): (\S+)", log.read_text())
            token = match.group(1) if match else None
            time.sleep(0.1)
        base = f"https://127.0.0.1:{port}"
        tls = httpx.Client(verify=str(tmp_path / "cert.pem"), timeout=10)
        while True:
            try:
                if tls.get(base + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        me = tls.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["teams"][0]["name"] == "dev"
        assert (tmp_path / "team" / "team" / "team.sqlite3").is_file()
        tls.close()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("no stop on SIGTERM:\n" + log.read_text()) from None


def test_a_server_outside_dev_mode_refuses_to_start_without_a_signing_key(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMGENIE_TEAM_")}
    env["LLMGENIE_TEAM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "llmgenie", "team", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no JWT signing key" in result.stderr
    env["LLMGENIE_TEAM_JWT_KEY"] = "k" * 40
    unmigrated = subprocess.run(
        [sys.executable, "-m", "llmgenie", "team", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unmigrated.returncode == 2 and "llmgenie team migrate" in unmigrated.stderr


def test_login_keeps_a_refresh_token_readable_only_by_the_user(
    team_server: object, tmp_path: Path
) -> None:
    from tests.team.conftest import ADMIN_PASSWORD, TeamServerProcess

    assert isinstance(team_server, TeamServerProcess)
    team_server.add_member("login@example.com", "member")
    env = {**os.environ, "LLMGENIE_CONFIG_FILE": str(tmp_path / "cfg" / "config.toml")}
    login = subprocess.run(
        [sys.executable, "-m", "llmgenie", "login", team_server.url,
         "--email", "login@example.com", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    saved = tmp_path / "cfg" / "team-credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    refresh = json.loads(saved.read_text())["refresh_token"]
    access = httpx.post(
        team_server.url + "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
    )
    assert access.status_code == 200
    logout = subprocess.run(
        [sys.executable, "-m", "llmgenie", "logout"], env=env, capture_output=True, text=True
    )
    assert logout.returncode == 0 and not saved.exists()
    again = httpx.post(
        team_server.url + "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
    )
    assert again.status_code == 401, "logout revoked the refresh token on the server"
