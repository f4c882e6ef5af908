"""The workspace folders a client opened, each with its settings and (once opened) engine.

Paths are absolute and resolved; adapters convert their own addresses (LSP URIs) first.
A path maps to the innermost open folder containing it. Engines open lazily, from a
worker thread, once per folder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llmgenie.config import Settings

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine


@dataclass
class Folder:
    """One workspace folder: its root, settings, traits and (once opened) its engine."""

    root: Path
    settings: Settings
    traits: dict[str, bool] = field(default_factory=dict)
    engine: WorkspaceEngine | None = None
    open_error: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def name(self) -> str:
        return self.root.name

    def open_engine(self) -> WorkspaceEngine:
        """Open the engine once (thread-safe); later calls return the same engine."""
        with self.lock:
            if self.engine is None:
                from llmgenie.engine import WorkspaceEngine

                try:
                    self.engine = WorkspaceEngine.open(self.root, self.settings)
                except Exception as exc:
                    self.open_error = f"index cannot be opened: {exc}"
                    raise
                self.open_error = None
            return self.engine

    def close_engine(self) -> None:
        with self.lock:
            engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()


class FolderRegistry:
    """The open folders, and the mapping from file paths into them."""

    def __init__(self) -> None:
        self._folders: dict[Path, Folder] = {}
        self._lock = threading.Lock()

    def add(self, folder: Folder) -> None:
        with self._lock:
            self._folders[folder.root] = folder

    def remove(self, root: Path) -> Folder | None:
        with self._lock:
            return self._folders.pop(root, None) or self._folders.pop(root.resolve(), None)

    def folders(self) -> list[Folder]:
        with self._lock:
            return list(self._folders.values())

    def get(self, root: Path) -> Folder | None:
        """The folder whose root is exactly `root`."""
        with self._lock:
            return self._folders.get(root) or self._folders.get(root.resolve())

    def primary(self) -> Folder | None:
        folders = self.folders()
        return folders[0] if folders else None

    def locate(self, path: Path) -> tuple[Folder, str] | None:
        """(innermost folder containing `path`, its posix path relative to that folder)."""
        best: tuple[Folder, str] | None = None
        for folder in self.folders():
            try:
                rel = path.relative_to(folder.root)
            except ValueError:
                try:
                    rel = path.resolve().relative_to(folder.root)
                except (ValueError, OSError):
                    continue
            if best is None or len(folder.root.parts) > len(best[0].root.parts):
                best = (folder, rel.as_posix())
        return best
