"""`llmgenie trust [PATH] [--revoke] [--list]`: which workspaces may choose models and endpoints.

A workspace's own `llmgenie.toml` may only set models, API bases, keys, embedding endpoints
and data directories once the user trusts it; the list lives in the user's config directory,
never in the repository (config.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmgenie.cli.common import err_console, workspace_root
from llmgenie.config import (
    WORKSPACE_RESTRICTED_KEYS,
    ConfigError,
    is_trusted,
    trust_file_path,
    trust_workspace,
)


def trust(
    path: Annotated[Path, typer.Argument(help="workspace folder")] = Path("."),
    revoke: Annotated[bool, typer.Option("--revoke", help="stop trusting it")] = False,
    show: Annotated[bool, typer.Option("--status", help="only say whether it is trusted")] = False,
) -> None:
    """Trust a workspace: its llmgenie.toml may then set models, endpoints, keys, directories."""
    root = workspace_root(path)
    try:
        if not show:
            trust_workspace(root, trusted=not revoke)
        trusted = is_trusted(root)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    state = "trusted" if trusted else "not trusted"
    typer.echo(f"{root}: {state} (list: {trust_file_path()})")
    if trusted and not show:
        err_console.print(
            f"its llmgenie.toml may now set {', '.join(WORKSPACE_RESTRICTED_KEYS)}",
            highlight=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add the `trust` command to the root app."""
    app.command("trust")(trust)
