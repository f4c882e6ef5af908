"""`llmgenie team …` (run and administer a team server) and `llmgenie login | logout`.

`team serve` runs the ASGI app under uvicorn; `team migrate` applies the schema before a
rollout; `team create-admin` creates a team and its first admin and prints a personal
access token once. `login URL` signs this machine in (password grant; the refresh token is
kept in the user's config directory, readable only by them) so that `llmgenie serve` can
delegate runs without the editor passing a token.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llmgenie.cli.common import err_console
from llmgenie.config import ConfigError

if TYPE_CHECKING:
    from llmgenie.config import Settings
    from llmgenie.remote.settings import TeamServerSettings

team_app = typer.Typer(help="Run and administer a team server.", no_args_is_help=True)
_Config = Annotated[
    Path | None,
    typer.Option("--config", help="TOML: a [server] table plus llmgenie's [llm], [permissions]"),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


@team_app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8765).")] = None,
    config: _Config = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="One developer: SQLite, no Redis, a printed token.")
    ] = False,
    tls_cert: Annotated[Path | None, typer.Option(help="Serve TLS with this cert.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="...and this key.")] = None,
    log_level: Annotated[str, typer.Option(help="stderr log level")] = "INFO",
) -> None:
    """Serve the team server: REST /api/v1, WebSocket /lsp, /healthz, /readyz, /metrics."""
    import uvicorn

    from llmgenie.observability.logging import configure_logging
    from llmgenie.observability.tracing import configure_tracing
    from llmgenie.remote.app import create_app, uvicorn_log_config
    from llmgenie.remote.settings import load_team_settings

    configure_logging(log_level)
    configure_tracing("llmgenie-team-server")
    try:
        team, settings = load_team_settings(
            config, host=host, port=port, dev=dev or None, tls_cert=tls_cert, tls_key=tls_key
        )
        app = create_app(team, settings)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    if team.dev:
        _print_dev_token(team, settings)
    uvicorn.run(
        app,
        host=team.host,
        port=team.port,
        log_level=log_level.lower(),
        access_log=False,  # request lines could carry ids users consider private
        log_config=uvicorn_log_config(),
        ssl_certfile=str(team.tls_cert) if team.tls_cert else None,
        ssl_keyfile=str(team.tls_key) if team.tls_key else None,
        ws_max_size=16 * 1024 * 1024,
        timeout_graceful_shutdown=30,  # SIGTERM: finish requests, then close sockets
    )


def _print_dev_token(team: TeamServerSettings, settings: Settings) -> None:
    """--dev: a team 'dev' with an admin, and a one-time token for it, on stderr."""
    from llmgenie.locations import data_root
    from llmgenie.remote.auth import Authenticator
    from llmgenie.remote.db import Database
    from llmgenie.remote.ledger import Ledger

    db = Database(team.database((team.data_dir or data_root(settings)) / "team"))
    ledger = Ledger(db)
    team_id = ledger.team_by_name("dev") or ledger.create_team("dev")
    user_id = ledger.ensure_user("dev@localhost", "developer")
    ledger.set_member(team_id, user_id, "admin")
    # The --dev signing key changes with every process: a personal token survives restarts.
    auth = Authenticator(db, team.signing_key(), 900, 3600, 1)
    token = auth.issue_opaque(user_id, "pat", "dev (printed at startup)", 1).token
    db.dispose()
    err_console.print(
        f"llmgenie team server (--dev): team 'dev', admin dev@localhost\n"
        f"one-time token (1 day): {token}",
        soft_wrap=True,
    )


@team_app.command("worker")
def worker_command(
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Runs at once (threads).")
    ] = 4,
    config: _Config = None,
    log_level: Annotated[str, typer.Option(help="stderr log level")] = "INFO",
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", metavar="HOST:PORT", help="Serve /metrics and /healthz."),
    ] = None,
    stop_file: Annotated[
        Path | None,
        typer.Option(
            "--stop-file",
            metavar="PATH",
            help="Once this file exists, claim no more runs (a preStop hook creates it).",
        ),
    ] = None,
) -> None:
    """Run team runs from the queue (needs the broker, Redis and the database the server
    uses). SIGTERM lets the runs in progress finish for up to drain_s, hands the rest back
    to the queue, then exits."""
    from llmgenie.lsp.entry import host_port
    from llmgenie.observability.logging import configure_logging
    from llmgenie.observability.tracing import configure_tracing
    from llmgenie.remote.settings import load_team_settings
    from llmgenie.remote.worker import run_worker

    configure_logging(log_level)
    configure_tracing("llmgenie-worker")
    try:
        address = host_port(metrics) if metrics else None
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    try:
        team, settings = load_team_settings(config)
        run_worker(team, settings, concurrency, log_level, address, stop_file)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc


@team_app.command("status")
def status_command(
    config: _Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The pool at a glance: live workers, queued and running runs, expired leases."""
    from llmgenie.locations import data_root
    from llmgenie.remote.db import Database
    from llmgenie.remote.ledger import Ledger
    from llmgenie.remote.settings import load_team_settings
    from llmgenie.remote.worker import live_workers

    try:
        team, settings = load_team_settings(config)
        db = Database(team.database((team.data_dir or data_root(settings)) / "team"))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    try:
        counts = Ledger(db).leases()
    except Exception as exc:
        raise _fail(f"the database does not answer: {exc}", 1) from exc
    finally:
        db.dispose()
    workers = live_workers(team.redis_url) if team.redis_url else []
    report = {
        "workers": workers,
        "queued": counts["queued"],
        "running": counts["running"],
        "expired_leases": counts["expired"],
        "queue": "worker pool" if team.broker_url else "in the server process",
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"runs execute {report['queue']}")
    typer.echo(f"workers: {len(workers)}")
    for w in sorted(workers, key=lambda w: str(w["id"])):
        typer.echo(f"  {w['id']}  running {w['running']}/{w['concurrency']}")
    typer.echo(
        f"queued: {counts['queued']}  running: {counts['running']}  "
        f"expired leases: {counts['expired']}"
    )


@team_app.command("migrate")
def migrate_command(config: _Config = None) -> None:
    """Bring the database schema to this release (run before rolling a release out)."""
    from llmgenie.locations import data_root
    from llmgenie.remote import migrate
    from llmgenie.remote.db import Database
    from llmgenie.remote.settings import load_team_settings

    try:
        team, settings = load_team_settings(config)
        db = Database(team.database((team.data_dir or data_root(settings)) / "team"))
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    before = migrate.current_revision(db)
    migrate.upgrade(db)
    after = migrate.current_revision(db)
    db.dispose()
    typer.echo(f"schema: {before or 'empty'} -> {after}")


@team_app.command("create-admin")
def create_admin(
    team_name: Annotated[str, typer.Option("--team", help="Team name (created if new).")],
    email: Annotated[str, typer.Option("--email", help="The admin's email.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password from stdin.")
    ] = False,
    days: Annotated[int, typer.Option(min=1, max=90, help="Token lifetime.")] = 30,
    config: _Config = None,
) -> None:
    """Create a team and its first admin; prints a personal access token once."""
    from llmgenie.locations import data_root
    from llmgenie.remote.auth import Authenticator
    from llmgenie.remote.db import Database
    from llmgenie.remote.ledger import Ledger
    from llmgenie.remote.settings import load_team_settings

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password is not None and len(password) < 12:
        raise _fail("the password needs at least 12 characters")
    try:
        team, settings = load_team_settings(config)
        db = Database(team.database((team.data_dir or data_root(settings)) / "team"))
        key = team.signing_key()
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    ledger = Ledger(db)
    team_id = ledger.team_by_name(team_name) or ledger.create_team(team_name)
    user_id = ledger.ensure_user(email, "", password)
    ledger.set_member(team_id, user_id, "admin")
    ledger.audit(team_id, "member_added", {"user_id": user_id, "role": "admin"}, actor="cli")
    auth = Authenticator(db, key, 900, 3600, 90)
    token = auth.issue_opaque(user_id, "pat", "created by team create-admin", days)
    db.dispose()
    typer.echo(json.dumps({"team_id": team_id, "user_id": user_id, "token": token.token}))


def login_command(
    url: Annotated[str, typer.Argument(help="The team server, e.g. https://team.example")],
    email: Annotated[str | None, typer.Option("--email", help="Your account.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Sign this machine in to a team server (the refresh token is kept, mode 0600)."""
    import httpx

    from llmgenie.remote.client import credentials_path

    email = email or typer.prompt("email")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass()
    base = url.rstrip("/")
    try:
        response = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {base}: {exc}", 1) from exc
    if response.status_code != 200:
        message = response.json().get("message", response.text) if response.content else ""
        raise _fail(f"sign-in refused ({response.status_code}): {message}", 1)
    body = response.json()
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": base, "email": email, "refresh_token": body["refresh_token"]}, fh)
    os.chmod(path, 0o600)
    typer.echo(f"signed in to {base} as {email}")


def logout_command() -> None:
    """Revoke this machine's team-server sign-in and forget it."""
    import httpx

    from llmgenie.remote.client import credentials_path

    path = credentials_path()
    if not path.exists():
        typer.echo("not signed in")
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    try:
        httpx.post(
            f"{saved['url']}/api/v1/auth/revoke", data={"token": saved["refresh_token"]}, timeout=10
        )
    except httpx.HTTPError as exc:
        err_console.print(f"[yellow]warning:[/yellow] could not revoke on the server: {exc}")
    path.unlink()
    typer.echo("signed out")


def register(app: typer.Typer) -> None:
    """Add `team`, `login` and `logout` to `app`."""
    app.add_typer(team_app, name="team")
    app.command("login")(login_command)
    app.command("logout")(logout_command)
