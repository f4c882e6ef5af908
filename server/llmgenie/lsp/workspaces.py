"""Workspace folders the editor opened, each with its own WorkspaceEngine and settings.

URIs are mapped to (folder, workspace-relative path) by longest matching root, so nested
folders resolve to the innermost one. Engines are opened lazily from a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pygls.uris import from_fs_path, to_fs_path

from llmgenie.config import Settings

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

# Files whose presence tells the DevOps actions what the project already has.
_DOCKER_FILES = ("Dockerfile", "dockerfile", "Containerfile", "docker-compose.yml", "compose.yaml")
_CI_MARKERS = (
    ".github/workflows",
    ".gitlab-ci.yml",
    ".circleci",
    "Jenkinsfile",
    "azure-pipelines.yml",
)


def workspace_traits(root: Path) -> dict[str, bool]:
    """Cheap facts about a project (a few stat calls) that shape the offered actions."""
    return {
        "has_dockerfile": any((root / name).exists() for name in _DOCKER_FILES),
        "has_ci": any((root / name).exists() for name in _CI_MARKERS),
    }


@dataclass
class Folder:
    """One workspace folder: its root, settings and (once opened) its engine."""

    uri: str
    root: Path
    settings: Settings
    engine: WorkspaceEngine | None = None
    open_error: str | None = None
    traits: dict[str, bool] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def open_engine(self) -> WorkspaceEngine:
        """Open the engine once (thread-safe); later calls return the same engine."""
        with self.lock:
            if self.engine is None:
                from llmgenie.engine import WorkspaceEngine

                self.engine = WorkspaceEngine.open(self.root, self.settings)
                self.open_error = None
            return self.engine

    def close_engine(self) -> None:
        with self.lock:
            engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a file:// URI (None for other schemes)."""
    if not uri.startswith("file:"):
        return None
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def path_to_uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


class WorkspaceRegistry:
    """The open folders, and the mapping from document URIs into them."""

    def __init__(self) -> None:
        self._folders: dict[Path, Folder] = {}
        self._lock = threading.Lock()

    def add(self, folder: Folder) -> None:
        with self._lock:
            self._folders[folder.root] = folder

    def remove(self, uri: str) -> Folder | None:
        path = uri_to_path(uri)
        if path is None:
            return None
        with self._lock:
            return self._folders.pop(path.resolve(), None) or self._folders.pop(path, None)

    def folders(self) -> list[Folder]:
        with self._lock:
            return list(self._folders.values())

    def primary(self) -> Folder | None:
        folders = self.folders()
        return folders[0] if folders else None

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """(folder, posix relative path) for a document URI inside an open folder."""
        path = uri_to_path(uri)
        if path is None:
            return None
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

    def uri_for(self, folder: Folder, rel_path: str) -> str:
        return path_to_uri(folder.root / rel_path)
