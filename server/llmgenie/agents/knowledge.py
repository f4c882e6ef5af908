"""The specialists' knowledge base: curated guidance plus the workspace's own docs.

The curated guidance is the `knowledge/` directory (one folder per specialist: devops,
security, performance, documentation). It is indexed with the same context engine as a
workspace, so retrieval is the engine's hybrid search over Markdown sections.

Where `knowledge/` is found, first match wins:
1. `LLMGENIE_KNOWLEDGE_DIR` (an explicit override),
2. the source checkout: `<repo>/knowledge` next to `server/`,
3. an installed copy: `<sys.prefix>/share/llmgenie/knowledge` (wheel data files).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel

from llmgenie.contracts.search import ChunkHit, SearchResult
from llmgenie.engine import WorkspaceEngine
from llmgenie.observability.logging import get_logger
from llmgenie.retrieval.query import MAX_QUERY_CHARS

log = get_logger(__name__)

KNOWLEDGE_DIR_ENV = "LLMGENIE_KNOWLEDGE_DIR"
Topic = Literal["devops", "security", "performance", "documentation"]
TOPICS: tuple[Topic, ...] = ("devops", "security", "performance", "documentation")
_DOC_SUFFIXES = {".md", ".markdown", ".rst", ".adoc"}
_DOC_DIRS = ("docs/", "doc/", "adr/", "decisions/")


class GuidanceHit(BaseModel):
    """One retrieved passage: curated knowledge or a workspace document."""

    source: Literal["knowledge", "workspace"]
    path: str
    start_line: int
    end_line: int
    heading: str | None
    text: str
    score: float


def knowledge_dir() -> Path | None:
    """The curated knowledge directory, or None if this installation has none."""
    override = os.environ.get(KNOWLEDGE_DIR_ENV)
    candidates = [Path(override)] if override else []
    candidates.append(Path(__file__).resolve().parents[3] / "knowledge")
    candidates.append(Path(sys.prefix) / "share" / "llmgenie" / "knowledge")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def is_doc_path(path: str) -> bool:
    """README, docs/, ADRs and other prose files of a workspace."""
    posix = PurePosixPath(path)
    if posix.name.lower().startswith(("readme", "contributing", "architecture", "changelog")):
        return True
    if posix.suffix.lower() in _DOC_SUFFIXES:
        return True
    return path.lower().startswith(_DOC_DIRS)


_engines: dict[Path, WorkspaceEngine] = {}
_engines_lock = threading.Lock()


def _knowledge_engine(directory: Path, workspace_engine: WorkspaceEngine) -> WorkspaceEngine:
    """Open and index the knowledge directory once per process (indexing is incremental)."""
    key = directory.resolve()
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            # The workspace's cache and embedding settings, but none of its ignore rules.
            base = workspace_engine.settings
            settings = base.model_copy(
                update={"index": base.index.model_copy(update={"ignore": []})}
            )
            engine = WorkspaceEngine.open(key, settings)
            summary = engine.index()
            log.info("knowledge_indexed", path=str(key), files=summary.files)
            _engines[key] = engine
        return engine


def _hit_text(engine: WorkspaceEngine, hit: ChunkHit, max_lines: int) -> str:
    if hit.text is not None:
        lines = hit.text.splitlines()
    else:
        try:
            lines = engine.read_text(hit.path).splitlines()[hit.start_line - 1 : hit.end_line]
        except (OSError, ValueError, KeyError):
            return ""
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], "…"]
    return "\n".join(lines)


def _guidance_hits(
    engine: WorkspaceEngine,
    result: SearchResult,
    source: Literal["knowledge", "workspace"],
    keep: Callable[[str], bool],
    k: int,
    max_lines: int,
) -> list[GuidanceHit]:
    """The first `k` chunks of `result` whose path `keep` accepts, with their text."""
    hits: list[GuidanceHit] = []
    for chunk in result.chunks:
        if not keep(chunk.path):
            continue
        hits.append(
            GuidanceHit(
                source=source,
                path=chunk.path,
                start_line=chunk.start_line,
                end_line=chunk.end_line,
                heading=chunk.symbol,
                text=_hit_text(engine, chunk, max_lines),
                score=chunk.score,
            )
        )
        if len(hits) >= k:
            break
    return hits


class KnowledgeBase:
    """Search curated guidance (optionally one specialist's topic) and workspace docs."""

    def __init__(self, workspace_engine: WorkspaceEngine, directory: Path | None = None) -> None:
        self.workspace_engine = workspace_engine
        self.directory = directory if directory is not None else knowledge_dir()

    def search_curated(
        self, query: str, k: int = 5, topic: Topic | None = None, max_lines: int = 40
    ) -> list[GuidanceHit]:
        """Best curated passages for `query`; `topic` keeps one specialist's folder."""
        if self.directory is None:
            return []
        engine = _knowledge_engine(self.directory, self.workspace_engine)
        result = engine.search(query[:MAX_QUERY_CHARS], k=k * 4 if topic else k)
        return _guidance_hits(
            engine,
            result,
            "knowledge",
            lambda path: topic is None or path.startswith(f"{topic}/"),
            k,
            max_lines,
        )

    def search_workspace_docs(
        self, query: str, k: int = 3, max_lines: int = 40
    ) -> list[GuidanceHit]:
        """The workspace's own prose (README, docs/, decisions) matching `query`."""
        engine = self.workspace_engine
        result = engine.search(query[:MAX_QUERY_CHARS], k=max(10, k * 5))
        return _guidance_hits(engine, result, "workspace", is_doc_path, k, max_lines)

    def search(self, query: str, k: int = 5, topic: Topic | None = None) -> list[GuidanceHit]:
        """Curated guidance first, then the workspace's docs."""
        return [
            *self.search_curated(query, k, topic),
            *self.search_workspace_docs(query, max(1, k // 2)),
        ]


def format_hits(hits: list[GuidanceHit]) -> str:
    """Render hits for a model: where each passage comes from, then its text."""
    if not hits:
        return "No matching guidance."
    blocks = []
    for hit in hits:
        origin = "knowledge base" if hit.source == "knowledge" else "workspace"
        title = f" — {hit.heading}" if hit.heading else ""
        blocks.append(f"[{origin}] {hit.path}:{hit.start_line}-{hit.end_line}{title}\n{hit.text}")
    return "\n\n".join(blocks)
