"""The team index for real: repositories registered over REST (a git URL, a server path),
cloned and indexed by the team server, searched over REST, kept fresh, and read by headless
runs (in the server's process, and on a worker of the pool through Redis), every answer
redacted. Registration is confined: only git URLs and directories under `repo_roots`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.model_server import ModelServer, Reply
from tests.team.conftest import (
    TeamServerProcess,
    final_answer,
    start_team_server,
    stop_team_server,
)

SECRET = "sk-live-" + "7f3a9c2e" * 4
INVOICE = '''"""Invoices of the billing service."""


def compute_invoice_total(lines: list[tuple[int, float]], tax_rate: float) -> float:
    """The amount due: quantity times price of every line, plus tax."""
    subtotal = sum(quantity * price for quantity, price in lines)
    return round(subtotal * (1 + tax_rate), 2)
'''
REFUND = '''def issue_refund(invoice_id: str, amount: float) -> dict[str, object]:
    """Refund part of an invoice."""
    return {"invoice": invoice_id, "refunded": amount}
'''


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _billing_repo(base: Path) -> Path:
    repo = base / f"billing-{uuid.uuid4().hex[:6]}"
    (repo / "billing").mkdir(parents=True)
    (repo / "billing" / "invoice.py").write_text(INVOICE)
    (repo / "settings.py").write_text(f'STRIPE_KEY = "{SECRET}"\n')
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "invoices")
    return repo


@pytest.fixture(scope="module")
def repo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's only repo_root: local repositories must live under it."""
    return tmp_path_factory.mktemp("repo-root")


@pytest.fixture(scope="module")
def index_server(
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str,
    redis_url: str,
    team_model: ModelServer,
    repo_root: Path,
) -> Iterator[TeamServerProcess]:
    server = start_team_server(
        tmp_path_factory.mktemp("team"),
        pg_database,
        redis_url,
        team_model,
        LLMGENIE_TEAM_REPO_ROOTS=json.dumps([str(repo_root)]),
        LLMGENIE_TEAM_REPO_REFRESH_S="3600",  # refreshes in these tests are asked for
    )
    try:
        yield server
    finally:
        stop_team_server(server)


def _wait_repo(
    server: TeamServerProcess, name: str, until: Any, timeout: float = 120
) -> dict[str, Any]:
    """The repository's record once `until(record)` holds."""
    deadline = time.monotonic() + timeout
    with server.api() as api:
        while True:
            record = api.get(f"/teams/{server.team_id}/repositories/{name}").json()
            if until(record):
                return dict(record)
            assert record.get("status") != "failed", record
            assert time.monotonic() < deadline, (record, server.logs()[-3000:])
            time.sleep(0.2)


def _register(server: TeamServerProcess, name: str, **source: str) -> httpx.Response:
    with server.api() as api:
        return api.post(f"/teams/{server.team_id}/repositories", json={"name": name, **source})


def _wait_run(server: TeamServerProcess, run_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with server.api() as api:
        while True:
            run = api.get(f"/teams/{server.team_id}/runs/{run_id}").json()
            if run["status"] in ("succeeded", "failed", "cancelled"):
                return dict(run)
            assert time.monotonic() < deadline, (run, server.logs()[-3000:])
            time.sleep(0.2)


def test_a_git_repository_is_indexed_searchable_and_kept_fresh(
    index_server: TeamServerProcess, repo_root: Path
) -> None:
    source = _billing_repo(repo_root)
    registered = _register(index_server, "billing", url=f"file://{source}")
    assert registered.status_code == 201, registered.text
    assert registered.json()["kind"] == "git"
    head = _git(source, "rev-parse", "HEAD")
    ready = _wait_repo(index_server, "billing", lambda r: r["status"] == "ready")
    assert ready["commit"] == head and ready["files"] >= 2

    team = f"/teams/{index_server.team_id}/repositories/billing"
    with index_server.api() as api:
        found = api.get(f"{team}/search", params={"q": "compute invoice total with tax"}).json()
        assert found["commit"] == head
        top = found["result"]["files"][0]
        assert top["path"] == "billing/invoice.py" and top["reasons"], found
        assert SECRET not in json.dumps(found)
        repo_map = api.get(f"{team}/map").json()["map"]
        assert "compute_invoice_total" in repo_map

        # A new commit upstream: a refresh fetches and re-indexes it.
        (source / "billing" / "refund.py").write_text(REFUND)
        _git(source, "add", ".")
        _git(source, "commit", "-q", "-m", "refunds")
        new_head = _git(source, "rev-parse", "HEAD")
        assert api.post(f"{team}/refresh").status_code == 202
        _wait_repo(index_server, "billing", lambda r: r["commit"] == new_head)
        found = api.get(f"{team}/search", params={"q": "issue_refund"}).json()
        assert found["result"]["files"][0]["path"] == "billing/refund.py"

        actions = [a["action"] for a in api.get(f"/teams/{index_server.team_id}/audit").json()]
        assert "repository_registered" in actions


def test_registration_is_confined_to_git_urls_and_the_servers_repo_roots(
    index_server: TeamServerProcess, repo_root: Path, tmp_path: Path
) -> None:
    outside = _billing_repo(tmp_path)  # not under repo_roots
    refused = [
        _register(index_server, "a", path=str(outside)),
        _register(index_server, "b", url=f"file://{outside}"),
        _register(index_server, "c", url="ext::sh -c touch% /tmp/pwned"),
        _register(index_server, "d", url="--upload-pack=touch /tmp/pwned"),
        _register(index_server, "e", path=str(repo_root / ".." / outside.name)),
        _register(index_server, "f"),  # neither url nor path
    ]
    statuses = [r.status_code for r in refused]
    assert statuses == [403, 403, 422, 422, 403, 422], [r.text for r in refused]

    local = _billing_repo(repo_root)
    assert _register(index_server, "local", path=str(local)).status_code == 201
    assert _register(index_server, "local", path=str(local)).status_code == 409
    ready = _wait_repo(index_server, "local", lambda r: r["status"] == "ready")
    assert ready["kind"] == "path" and ready["commit"] == _git(local, "rev-parse", "HEAD")
    assert not (local / ".llmgenie").exists(), "the index lives in the server's data dir"

    _viewer, viewer_token = index_server.add_member("viewer-repos@example.com", "viewer")
    with index_server.api(viewer_token) as api:
        team = f"/teams/{index_server.team_id}/repositories"
        assert api.post(team, json={"name": "v", "path": str(local)}).status_code == 403
        assert api.get(f"{team}/local").status_code == 200
        assert api.delete(f"{team}/local").status_code == 403
    other = index_server.create_team(f"other-{uuid.uuid4().hex[:6]}", "other-repos@example.com")
    with index_server.api(other["token"]) as api:
        assert api.get(f"/teams/{index_server.team_id}/repositories/local").status_code == 404

    with index_server.api() as api:
        team = f"/teams/{index_server.team_id}/repositories"
        assert api.delete(f"{team}/local").status_code == 204
        assert api.get(f"{team}/local").status_code == 404
    assert local.is_dir(), "removing a registration leaves the user's directory alone"


def test_a_headless_run_reads_a_registered_repository(
    index_server: TeamServerProcess, repo_root: Path
) -> None:
    source = _billing_repo(repo_root)
    assert _register(index_server, "headless", url=f"file://{source}").status_code == 201
    _wait_repo(index_server, "headless", lambda r: r["status"] == "ready")
    index_server.model.reset()
    index_server.model.script(
        Reply.tool_call("read_file", {"path": "settings.py"}),
        Reply.tool_call("read_file", {"path": "billing/invoice.py"}),
        Reply.plain(final_answer("compute_invoice_total adds tax to the subtotal.")),
    )
    with index_server.api() as api:
        submitted = api.post(
            f"/teams/{index_server.team_id}/runs",
            json={"crew": "explain", "prompt": "How is an invoice total computed?",
                  "repository": "headless"},
        )  # fmt: skip
        assert submitted.status_code == 202, submitted.text
        unknown = api.post(
            f"/teams/{index_server.team_id}/runs",
            json={"crew": "explain", "prompt": "?", "repository": "nothere"},
        )
        assert unknown.status_code == 404
    run = _wait_run(index_server, submitted.json()["run_id"])
    assert run["status"] == "succeeded", run
    assert "adds tax" in run["result"]["message"]
    sent = index_server.model.all_sent_text()
    assert "round(subtotal * (1 + tax_rate), 2)" in sent, "the agent read the repository"
    assert "STRIPE_KEY" in sent and SECRET not in sent, "answers are redacted"


# -- through a worker of the pool -------------------------------------------------------------


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    vhost = f"llmgenie-test-{uuid.uuid4().hex[:8]}"
    for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]):
        done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


def test_a_worker_asks_the_team_index_for_a_registered_repository(
    tmp_path: Path,
    pg_database: str,
    redis_url: str,
    broker_url: str,
    repo_root: Path,
) -> None:
    # A second server of the same team database, this one with a worker pool: the run goes
    # to a worker, whose tool calls travel through Redis to this server's team index.
    model = ModelServer().start()
    server = start_team_server(
        tmp_path,
        pg_database,
        redis_url,
        model,
        LLMGENIE_TEAM_BROKER_URL=broker_url,
        LLMGENIE_TEAM_REPO_ROOTS=json.dumps([str(repo_root)]),
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "llmgenie", "team", "worker", "--log-level", "INFO"],
            env=server.env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        source = _billing_repo(repo_root)
        assert _register(server, "pooled", url=f"file://{source}").status_code == 201
        _wait_repo(server, "pooled", lambda r: r["status"] == "ready")
        model.script(
            Reply.tool_call("read_file", {"path": "billing/invoice.py"}),
            Reply.plain(final_answer("It multiplies and adds tax.")),
        )
        with server.api() as api:
            submitted = api.post(
                f"/teams/{server.team_id}/runs",
                json={"crew": "explain", "prompt": "invoice total?", "repository": "pooled"},
            )
            assert submitted.status_code == 202, submitted.text
        run = _wait_run(server, submitted.json()["run_id"], timeout=300)
        assert run["status"] == "succeeded", (run, log.read_text()[-3000:])
        assert "round(subtotal * (1 + tax_rate), 2)" in model.all_sent_text()
        assert submitted.json()["run_id"] in log.read_text(), "a worker of the pool ran it"
    finally:
        worker.kill()
        worker.wait(30)
        stop_team_server(server)
        model.stop()
