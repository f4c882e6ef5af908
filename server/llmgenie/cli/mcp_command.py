"""`llmgenie mcp [PATH]`: serve the workspace's index and crews to MCP clients (stdio by
default, or streamable HTTP on a loopback port with --http)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmgenie.cli.common import err_console, settings_for, workspace_root


def mcp_command(
    path: Annotated[Path, typer.Argument(help="Workspace root.")] = Path("."),
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            help="Serve streamable HTTP on HOST:PORT (e.g. 127.0.0.1:8765) instead of stdio.",
        ),
    ] = None,
) -> None:
    """Run an MCP server exposing search, repo map, symbols and crews for PATH."""
    root = workspace_root(path)
    settings_for(root)  # a bad config is one clear error line, before any protocol starts
    import asyncio

    from llmgenie.mcp.server import parse_http, serve

    address = None
    if http is not None:
        try:
            address = parse_http(http)
        except ValueError as exc:
            err_console.print(f"[red]error:[/red] --http expects HOST:PORT, got {http!r}")
            raise typer.Exit(2) from exc
        if not _loopback(address[0]):
            err_console.print(
                f"[yellow]warning:[/yellow] serving on {address[0]}, not loopback: anyone who"
                " can reach it can search this workspace and run crews (no authentication)"
            )

    def announce(line: str) -> None:
        err_console.print(line, highlight=False, soft_wrap=True)

    try:
        asyncio.run(serve(root, address, announce))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    """Add `mcp` to `app`."""
    app.command("mcp")(mcp_command)
