"""WorkspaceEngine: the one service the CLI, the language server and the agents call.

It owns a workspace's persistent index and answers questions about it. It knows nothing
about LSP. Methods are thread-safe: the LSP layer calls them from worker threads.
"""

from __future__ import annotations

from pathlib import Path

from llmgenie.config import Settings
from llmgenie.context.models import Reference, Symbol
from llmgenie.index.models import IndexHealth, IndexSummary, PositionContext
from llmgenie.progress import CancelToken, ProgressCallback
from llmgenie.retrieval.models import SearchResult


class WorkspaceEngine:
    """Index + retrieval for one workspace root."""

    root: Path
    settings: Settings

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> WorkspaceEngine:
        """Open (or create, or rebuild if corrupt) the index for `root`."""
        raise NotImplementedError

    def index(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IndexSummary:
        """Bring the index up to date with disk: parse changed files, drop deleted ones."""
        raise NotImplementedError

    def update_document(self, rel_path: str, text: str) -> None:
        """Re-index one file from an in-memory buffer (the editor's unsaved text)."""
        raise NotImplementedError

    def close_document(self, rel_path: str) -> None:
        """Forget the buffer overlay for `rel_path` and re-read it from disk."""
        raise NotImplementedError

    def remove_document(self, rel_path: str) -> None:
        """Delete a file's rows everywhere (catalog, lexical, vectors)."""
        raise NotImplementedError

    def refresh_paths(self, rel_paths: list[str]) -> None:
        """Re-read these files from disk (watched-file events); missing ones are removed."""
        raise NotImplementedError

    def embed_pending(
        self,
        priority: list[str] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Embed chunks that have no vector yet, `priority` files first; returns count."""
        raise NotImplementedError

    def search(self, query: str, k: int = 10, focus: str | None = None) -> SearchResult:
        """Hybrid search; `focus` is a workspace-relative file that personalises the graph."""
        raise NotImplementedError

    def repo_map(self, focus: str | None = None, tokens: int = 1024) -> str:
        """A token-budgeted outline of the most relevant files and symbols."""
        raise NotImplementedError

    def analyze_position(self, rel_path: str, line: int, col: int = 0) -> PositionContext:
        """Enclosing symbol, related definitions, references and chunks at a 1-based line."""
        raise NotImplementedError

    def symbols(self, rel_path: str) -> list[Symbol]:
        raise NotImplementedError

    def find_definitions(self, name: str) -> list[Symbol]:
        raise NotImplementedError

    def find_references(self, name: str) -> list[Reference]:
        raise NotImplementedError

    def read_text(self, rel_path: str) -> str:
        """Current text of a file (buffer overlay first), path checked to stay inside root."""
        raise NotImplementedError

    def health(self) -> IndexHealth:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
