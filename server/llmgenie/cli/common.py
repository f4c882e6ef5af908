"""Helpers shared by CLI commands: settings loading and index use with clean errors (one
line, no traceback), stderr console."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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
    except ValueError as exc:  # pydantic's ValidationError and SettingsError are ValueErrors
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        detail = f"{exc}{cause}".strip().splitlines()[0]
        err_console.print(f"[red]error:[/red] invalid configuration: {detail}", soft_wrap=True)
        raise typer.Exit(2) from exc
    # The CLI talks to people in its own words: log lines only for errors, unless a log
    # level was configured explicitly (LLMGENIE_LOG_LEVEL=warning shows fallbacks, …).
    explicit = "log_level" in settings.model_fields_set
    configure_logging(settings.log_level if explicit else "ERROR")
    return settings


def workspace_root(path: Path) -> Path:
    """Resolve PATH to an existing directory or exit with a clear message."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        err_console.print(f"[red]error:[/red] {path} is not a directory")
        raise typer.Exit(2)
    return root


UNWRITABLE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


@contextmanager
def index_errors(root: Path, index_dir: Path) -> Iterator[None]:
    """A corrupt or unwritable index is one clear line saying how to rebuild (exit 1)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        _index_unusable(root, index_dir, f"corrupt or read-only ({exc})", exc)
    except OSError as exc:
        if exc.errno not in UNWRITABLE_ERRNOS:
            raise
        _index_unusable(root, index_dir, f"not writable ({exc.strerror})", exc)


def _index_unusable(root: Path, index_dir: Path, what: str, exc: Exception) -> None:
    err_console.print(
        f"[red]error:[/red] the index at {index_dir} is {what}; "
        f"rebuild it with: llmgenie index --rebuild {root}",
        soft_wrap=True,
        highlight=False,
    )
    raise typer.Exit(1) from exc
