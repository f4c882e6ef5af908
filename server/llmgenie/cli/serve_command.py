"""`llmgenie serve`: run the language server over stdio (editors), TCP or WebSocket.

In stdio mode stdout carries nothing but LSP messages; logs go to stderr. The server
module (pygls, lsprotocol) is imported only when the command runs.
"""

from __future__ import annotations

import os

import typer

from llmgenie.cli.common import err_console


def _host_port(value: str, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        err_console.print(f"[red]error:[/red] {flag} expects HOST:PORT, got {value!r}")
        raise typer.Exit(2)
    return host or "127.0.0.1", int(port)


def serve(
    stdio: bool = typer.Option(False, "--stdio", help="Speak LSP over stdin/stdout (editors)."),
    tcp: str | None = typer.Option(None, "--tcp", metavar="HOST:PORT", help="Listen on TCP."),
    ws: str | None = typer.Option(None, "--ws", metavar="HOST:PORT", help="Listen on WebSocket."),
    log_level: str = typer.Option(
        os.environ.get("LLMGENIE_LOG_LEVEL", "WARNING"), "--log-level", help="stderr log level."
    ),
) -> None:
    """Run the llmgenie language server (exactly one of --stdio, --tcp, --ws)."""
    chosen = [name for name, value in (("--stdio", stdio), ("--tcp", tcp), ("--ws", ws)) if value]
    if len(chosen) != 1:
        err_console.print(
            "[red]error:[/red] choose exactly one of --stdio, --tcp HOST:PORT, --ws HOST:PORT"
        )
        raise typer.Exit(2)
    from llmgenie.observability.logging import configure_logging

    configure_logging(log_level)
    from llmgenie.lsp.entry import serve_stdio, serve_tcp, serve_ws

    if stdio:
        serve_stdio()
    elif tcp:
        serve_tcp(*_host_port(tcp, "--tcp"))
    elif ws:
        serve_ws(*_host_port(ws, "--ws"))


def register(app: typer.Typer) -> None:
    """Add `llmgenie serve` to `app`."""
    app.command("serve")(serve)
