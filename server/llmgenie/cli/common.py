"""Helpers shared by CLI commands: settings loading with clean errors, stderr console."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from llmgenie.config import ConfigError, Settings, load_settings
from llmgenie.observability.logging import configure_logging

err_console = Console(stderr=True)


def settings_for(path: Path) -> Settings:
    """Load settings for a workspace, turning a bad key into one clear error line."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    # The CLI talks to people: only warnings unless a log level was configured explicitly.
    explicit = "log_level" in settings.model_fields_set
    configure_logging(settings.log_level if explicit else "WARNING")
    return settings


def workspace_root(path: Path) -> Path:
    """Resolve PATH to an existing directory or exit with a clear message."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        err_console.print(f"[red]error:[/red] {path} is not a directory")
        raise typer.Exit(2)
    return root
