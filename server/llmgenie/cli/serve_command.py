"""`llmgenie serve`: run the language server over stdio (editors), TCP or WebSocket.

In stdio mode stdout carries nothing but LSP messages; logs go to stderr. The server
module (pygls, lsprotocol) is imported only when the command runs. `python -m llmgenie
serve …` skips typer altogether (llmgenie/__main__.py) for a faster cold start; both
end in llmgenie.lsp.entry.
"""

from __future__ import annotations

import os

import typer

from llmgenie.cli.common import err_console


def serve(
    stdio: bool = typer.Option(False, "--stdio", help="Speak LSP over stdin/stdout (editors)."),
    tcp: str | None = typer.Option(None, "--tcp", metavar="HOST:PORT", help="Listen on TCP."),
    ws: str | None = typer.Option(None, "--ws", metavar="HOST:PORT", help="Listen on WebSocket."),
    log_level: str = typer.Option(
        os.environ.get("LLMGENIE_LOG_LEVEL", "WARNING"), "--log-level", help="stderr log level."
    ),
    metrics: str | None = typer.Option(
        None, "--metrics", metavar="HOST:PORT", help="Also serve Prometheus /metrics (opt-in)."
    ),
) -> None:
    """Run the llmgenie language server (exactly one of --stdio, --tcp, --ws)."""
    from llmgenie.lsp import entry

    chosen = [name for name, value in (("--stdio", stdio), ("--tcp", tcp), ("--ws", ws)) if value]
    if len(chosen) != 1:
        err_console.print(
            "[red]error:[/red] choose exactly one of --stdio, --tcp HOST:PORT, --ws HOST:PORT"
        )
        raise typer.Exit(2)
    try:
        if metrics:
            entry.start_metrics(*entry.host_port(metrics))
        if stdio:
            entry.exit_now(entry.serve_stdio(log_level))
        elif tcp:
            entry.serve_tcp(*entry.host_port(tcp), log_level=log_level)
        elif ws:
            entry.serve_ws(*entry.host_port(ws), log_level=log_level)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    entry.exit_now(0)


def register(app: typer.Typer) -> None:
    """Add `llmgenie serve` to `app`."""
    app.command("serve")(serve)
