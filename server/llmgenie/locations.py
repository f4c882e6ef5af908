"""Where llmgenie keeps things on disk: the one module that knows every location.

Two kinds of data, kept apart on purpose:

- index data (catalog, vectors) is disposable: it lives in the user's *cache* directory,
  which users and cleaning tools may delete at will; a reindex throws it away.
- agent data (run records, the hash-chained audit log) must last: it lives in the user's
  *data* directory and nothing that rebuilds or clears the index touches it.

Each workspace gets one directory under each root, named by `workspace_key`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from llmgenie.config import Settings

APP_NAME = "llmgenie"
AGENT_STORE_NAME = "agents.sqlite3"
WORKSPACES_DIR = "workspaces"
ROOT_NOTE = "ROOT"


def workspace_key(root: Path) -> str:
    """A stable, filesystem-safe key for a resolved workspace root (readable name + hash)."""
    resolved = root.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", resolved.name)[:40] or "root"
    return f"{name}-{digest}"


def cache_root(settings: Settings) -> Path:
    """Root of the disposable index data (user cache dir unless configured)."""
    if settings.index.cache_dir is not None:
        return settings.index.cache_dir
    override = os.environ.get("LLMGENIE_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir(APP_NAME))


def data_root(settings: Settings) -> Path:
    """Root of the agent data that must last (user data dir unless configured)."""
    if settings.data_dir is not None:
        return settings.data_dir
    override = os.environ.get("LLMGENIE_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True, slots=True)
class WorkspaceLocations:
    """The directories of one workspace."""

    root: Path
    key: str
    index_dir: Path
    agent_dir: Path

    @property
    def agent_store(self) -> Path:
        """The SQLite file holding run records and the audit log."""
        return self.agent_dir / AGENT_STORE_NAME

    @property
    def legacy_agent_store(self) -> Path:
        """Where releases before 0.2 kept the agent store: inside the index directory."""
        return self.index_dir / AGENT_STORE_NAME


def locations_for(root: Path, settings: Settings) -> WorkspaceLocations:
    """Where `root`'s index and agent data live (nothing is created)."""
    resolved = root.resolve()
    key = workspace_key(resolved)
    return WorkspaceLocations(
        root=resolved,
        key=key,
        index_dir=cache_root(settings) / WORKSPACES_DIR / key,
        agent_dir=data_root(settings) / WORKSPACES_DIR / key,
    )


def ensure_dir(directory: Path, root: Path) -> Path:
    """Create a per-workspace directory with a note naming its workspace (for people
    browsing the cache or data directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    note = directory / ROOT_NOTE
    if not note.exists():
        note.write_text(str(root.resolve()) + "\n", encoding="utf-8")
    return directory
