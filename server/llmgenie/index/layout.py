"""Where a workspace's index lives: one directory per resolved root under the cache root."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from llmgenie.config import Settings, cache_root

CATALOG_NAME = "catalog.sqlite3"
VECTORS_DIR = "vectors"


@dataclass(frozen=True, slots=True)
class IndexLayout:
    """Paths of one workspace's index files."""

    root: Path
    directory: Path
    key: str

    @property
    def catalog_path(self) -> Path:
        return self.directory / CATALOG_NAME

    @property
    def vectors_path(self) -> Path:
        return self.directory / VECTORS_DIR


def workspace_key(root: Path) -> str:
    """A stable, filesystem-safe key for a resolved workspace root (readable name + hash)."""
    resolved = str(root.resolve())
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.resolve().name)[:40] or "root"
    return f"{name}-{digest}"


def layout_for(root: Path, settings: Settings) -> IndexLayout:
    """The index layout for `root`, creating its directory (and a note naming the root)."""
    key = workspace_key(root)
    directory = cache_root(settings) / "workspaces" / key
    directory.mkdir(parents=True, exist_ok=True)
    note = directory / "ROOT"
    if not note.exists():
        note.write_text(str(root.resolve()) + "\n", encoding="utf-8")
    return IndexLayout(root=root.resolve(), directory=directory, key=key)
