"""Read-only access to workspace files for agents, confined to the workspace root.

Every path an agent gives goes through `resolve_inside` (symlinks and `..` included), so a
tool can never read or propose edits outside the workspace. Text comes from the engine
(which prefers the editor's unsaved buffer) and falls back to disk for files the index
does not hold (ignored or brand-new files).
"""

from __future__ import annotations

from pathlib import Path

from llmgenie.contracts.errors import PathEscapeError
from llmgenie.engine import WorkspaceEngine
from llmgenie.workspace.files import (
    FileText,
    FileTooLargeError,
    NotRegularFileError,
    TextWindow,
    read_workspace_file,
    resolve_inside,
    to_rel,
)

# The most a tool loads of one file at once: whole-file reads past it are refused, line
# ranges are cut at it.
MAX_READ_BYTES = 4 * 1024 * 1024


class WorkspaceView:
    """Path checks and current file text for one workspace."""

    def __init__(self, root: Path, engine: WorkspaceEngine) -> None:
        self.root = Path(root)
        self.engine = engine

    def rel(self, path: str) -> str:
        """Workspace-relative posix path; raises PathEscapeError if `path` leaves the root."""
        cleaned = path.strip().strip("\"'")
        if not cleaned:
            raise PathEscapeError("empty path")
        if cleaned.startswith("/") and not cleaned.startswith(str(self.root)):
            # Models often write workspace paths with a leading slash ("/app/main.py"):
            # read as relative when that file exists here (still confined to the root).
            stripped = cleaned.lstrip("/")
            if stripped and resolve_inside(self.root, stripped).is_file():
                cleaned = stripped
        resolved = resolve_inside(self.root, cleaned, allow_absolute=True)
        rel = to_rel(self.root, resolved)
        if not rel:
            raise PathEscapeError(f"{path!r} is the workspace root, not a file")
        return rel

    def exists(self, rel: str) -> bool:
        return resolve_inside(self.root, rel).is_file()

    def read(self, rel: str) -> str | None:
        """Current text of `rel` (unsaved buffer first), or None if there is no such file.

        Raises NotRegularFileError for a FIFO or device (reading could hang the run) and
        FileTooLargeError past MAX_READ_BYTES (a whole file is never loaded beyond that).
        """
        try:
            return self.engine.read_text(rel, MAX_READ_BYTES)
        except (PathEscapeError, NotRegularFileError, FileTooLargeError):
            raise
        except (FileNotFoundError, KeyError, LookupError, OSError, NotImplementedError):
            pass
        path = resolve_inside(self.root, rel)
        if not path.is_file():
            return None
        loaded = read_workspace_file(path, rel_path=rel)
        return loaded.text if isinstance(loaded, FileText) else None

    def window(self, rel: str, start: int, end: int) -> TextWindow | None:
        """Lines start..end of `rel` and its line count, without loading the whole file;
        None if there is no such file. At most MAX_READ_BYTES of lines come back."""
        try:
            return self.engine.read_window(rel, start, end, MAX_READ_BYTES)
        except (PathEscapeError, NotRegularFileError, FileTooLargeError):
            raise
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
