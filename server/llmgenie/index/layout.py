"""The files of one workspace's index inside its (disposable) index directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.locations import ensure_dir, locations_for

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


def layout_for(root: Path, settings: Settings) -> IndexLayout:
    """The index layout for `root`, creating its directory."""
    where = locations_for(root, settings)
    return IndexLayout(root=where.root, directory=ensure_dir(where.index_dir, root), key=where.key)
