"""WorkspaceEngine: the one object the application, the CLI and the agents ask about a
workspace — a small facade over the catalog, embeddings, navigation and retrieval.

It knows nothing about LSP. Methods are thread-safe (the language server calls them from
worker threads): writes go through the catalog's single writer, reads through per-thread
connections, open editor buffers through a versioned overlay.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from llmgenie.config import Settings, load_settings
from llmgenie.context.graph import CodeGraph
from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.index import IndexHealth, IndexSummary
from llmgenie.contracts.progress import CancelToken, ProgressCallback
from llmgenie.contracts.search import SearchResult
from llmgenie.contracts.symbols import PositionContext, Reference, Symbol
from llmgenie.engine.database import IndexDatabase, ReadView
from llmgenie.engine.embeddings import EmbeddingIndex
from llmgenie.engine.navigation import CodeNavigator
from llmgenie.engine.repo_map import build_repo_map
from llmgenie.index import catalog
from llmgenie.index.embeddings.base import EmbeddingProvider
from llmgenie.index.indexer import run_index_pass
from llmgenie.index.layout import IndexLayout, layout_for
from llmgenie.index.open_documents import OpenDocumentIndex
from llmgenie.index.schema import EDIT_TEXT_LEVEL
from llmgenie.index.worker import FileTask, WorkerConfig, hash_text, prepare_file, prepare_text
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import INDEX_UPDATE_LATENCY
from llmgenie.retrieval.hybrid import RetrievalInputs, hybrid_search
from llmgenie.retrieval.query import MAX_QUERY_CHARS
from llmgenie.workspace.discovery import discover_files
from llmgenie.workspace.files import (
    FileTooLargeError,
    TextWindow,
    content_hash,
    open_regular,
    read_line_window,
    read_regular_text,
    resolve_inside,
    text_window,
    to_rel,
)
from llmgenie.workspace.overlay import BufferOverlay

_log = get_logger(__name__)

MAX_SEARCH_K = 500


class WorkspaceEngine:
    """Index + retrieval for one workspace root."""

    def __init__(self, root: Path, settings: Settings, layout: IndexLayout) -> None:
        self.root = root
        self.settings = settings
        self.layout = layout
        self.db = IndexDatabase(layout.catalog_path)
        if self.db.rebuilt:
            _log.warning("index_rebuilding", root=str(root), reason=self.db.rebuilt)
        self.buffers = BufferOverlay()
        self.embeddings = EmbeddingIndex(self.db, layout, settings)
        self.navigation = CodeNavigator(self.db, self.read_text)
        self._config = WorkerConfig(settings.index.max_file_bytes, settings.index.chunk_max_lines)
        self._open_documents = OpenDocumentIndex()
        self.incremental_edits = True
        """Re-parse open documents incrementally (False: a full parse per update, the
        baseline bench/edit_bench.py compares with)."""
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> WorkspaceEngine:
        """Open (or create, or rebuild if corrupt) the index for `root`."""
        resolved = Path(os.path.realpath(root))
        if not resolved.is_dir():
            raise NotADirectoryError(f"workspace root is not a directory: {root}")
        settings = settings if settings is not None else load_settings(resolved)
        engine = cls(resolved, settings, layout_for(resolved, settings))
        _log.debug("engine_opened", root=str(resolved), index=str(engine.layout.directory))
        return engine

    def close(self) -> None:
        """Close connections and record a clean shutdown (skips the integrity check next time)."""
        if self._closed:
            return
        self._closed = True
        self.db.close()
        self.embeddings.close()

    def __enter__(self) -> WorkspaceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ files

    def rel(self, path: str) -> str:
        """A client path as workspace-relative posix; PathEscapeError if it leaves the root."""
        return to_rel(self.root, resolve_inside(self.root, path, allow_absolute=True))

    def read_text(self, rel_path: str, max_bytes: int | None = None) -> str:
        """Current text of a file (the editor's buffer first), confined to the root.

        Only regular files are read (NotRegularFileError for a FIFO or device, which could
        block forever); past `max_bytes` a FileTooLargeError is raised instead of loading it.
        """
        rel = self.rel(rel_path)
        text = self.buffers.text(rel)
        if text is not None:
            if max_bytes is not None and len(text) > max_bytes:
                raise FileTooLargeError(f"{rel} is larger than {max_bytes} bytes")
            return text
        path = resolve_inside(self.root, rel)
        if max_bytes is not None:
            return read_regular_text(path, max_bytes=max_bytes, name=rel)
        with open_regular(path, name=rel) as handle:
            return handle.read().decode("utf-8", errors="replace")

    def read_window(self, rel_path: str, start: int, end: int, max_bytes: int) -> TextWindow:
        """Lines start..end of a file (the editor's buffer first) and its line count; a file
        on disk is streamed, so a range of a huge file costs memory for the range only."""
        rel = self.rel(rel_path)
        text = self.buffers.text(rel)
        if text is not None:
            return text_window(text, start, end, max_bytes=max_bytes)
        path = resolve_inside(self.root, rel)
        return read_line_window(path, start, end, max_bytes=max_bytes, name=rel)

    # ------------------------------------------------------------------ indexing

    def index(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IndexSummary:
        """Bring the index up to date with disk: parse changed files, drop deleted ones."""
        started = time.perf_counter()
        result = run_index_pass(
            self.root,
            self.settings,
            self.db.writer,
            self.db.write_lock,
            exclude=set(self.buffers.paths()),
            progress=progress,
            cancel=cancel,
        )
        counts = self.db.counts()
        return IndexSummary(
            files=counts["files"],
            indexed=result.indexed,
            removed=result.removed,
            skipped=result.skipped,
            symbols=counts["symbols"],
            chunks=counts["chunks"],
            seconds=round(time.perf_counter() - started, 3),
            cancelled=result.cancelled,
        )

    def ensure_indexed(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IndexSummary | None:
        """Index once if the catalog has never completed a pass."""
        if self.db.meta("last_indexed_at") is None:
            return self.index(progress, cancel)
        return None

    def update_document(self, rel_path: str, text: str, version: int | None = None) -> None:
        """Re-index one file from an editor buffer (its unsaved text). An older `version`
        than the buffer already held is ignored, so out-of-order updates cannot roll back."""
        started = time.perf_counter()
        rel = self.rel(rel_path)
        if not self.buffers.set(rel, text, version):
            return
        digest = hash_text(text)
        if self.db.stored_hash(rel) == digest:
            return
        size = len(text.encode("utf-8", "surrogatepass"))
        if self.incremental_edits:
            payload = self._open_documents.prepare(
                rel, text, self._config, size=size, content_hash=digest
            )
        else:
            payload = prepare_text(
                rel,
                text,
                self._config,
                size=size,
                mtime_ns=-1,
                content_hash_=digest,
                text_level=EDIT_TEXT_LEVEL,
            )
        with self.db.write() as conn:
            catalog.BatchWriter(conn).write([payload])
        if rel not in self.buffers:  # closed meanwhile: do not keep its tree
            self._open_documents.forget(rel)
        INDEX_UPDATE_LATENCY.observe(time.perf_counter() - started)

    def open_document_stats(self) -> dict[str, int]:
        """How open documents were re-parsed so far (fresh, incremental, ranged,
        error_reparse; see context/incremental.py)."""
        return dict(self._open_documents.trees.stats)

    def close_document(self, rel_path: str) -> None:
        """Forget the buffer of `rel_path` and re-read the file from disk."""
        rel = self.rel(rel_path)
        self.buffers.remove(rel)
        self._open_documents.forget(rel)
        self.refresh_paths([rel])

    def remove_document(self, rel_path: str) -> None:
        """Delete a file's rows everywhere (catalog, lexical, vectors)."""
        rel = self.rel(rel_path)
        self.buffers.remove(rel)
        self._open_documents.forget(rel)
        with self.db.write() as conn:
            removed = catalog.delete_files(conn, [rel])
        if removed:
            self.embeddings.flush_deletes()

    def refresh_paths(self, rel_paths: list[str]) -> None:
        """Re-read these files from disk (watched-file events); missing ones are removed.
        Files open in the editor are skipped: their buffer is the truth while open."""
        payloads = []
        removed: list[str] = []
        for raw in rel_paths:
            rel = self.rel(raw)
            if rel in self.buffers:
                continue
            path = resolve_inside(self.root, rel)
            try:
                info = path.stat()
            except OSError:
                removed.append(rel)
                continue
            if not path.is_file():
                removed.append(rel)
                continue
            task = FileTask(
                rel, str(path), info.st_size, info.st_mtime_ns, self.db.stored_hash(rel)
            )
            payloads.append(prepare_file(task, self._config))
        if not payloads and not removed:
            return
        with self.db.write() as conn:
            if removed:
                catalog.delete_files(conn, removed)
            catalog.BatchWriter(conn).write(payloads)

    def embed_pending(
        self,
        priority: list[str] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Embed chunks that have no vector yet, `priority` files first; returns the count."""
        prio: list[str] = []
        for path in priority or []:
            try:
                prio.append(self.rel(path))
            except ValueError:
                continue
        return self.embeddings.embed_pending(prio, progress, cancel)

    def use_embedding_provider(self, provider: EmbeddingProvider | None, status: str) -> None:
        """Install a provider instead of loading one from settings (embedders, tests)."""
        self.embeddings.use_provider(provider, status)

    def embedding_status(self) -> str:
        """A one-line status of the embedding provider (loading it if needed)."""
        return self.embeddings.status()

    # ------------------------------------------------------------------ retrieval

    def search(self, query: str, k: int = 10, focus: str | None = None) -> SearchResult:
        """Hybrid search over one consistent index state; `focus` (a workspace file)
        personalises the code graph."""
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidRequest(
                f"search query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"
            )
        k = max(1, min(int(k), MAX_SEARCH_K))
        focus_rel: str | None = None
        if focus:
            try:
                focus_rel = self.rel(focus)
            except ValueError:
                focus_rel = None
        with self.db.snapshot() as view:
            focus_id = view.files.by_path.get(focus_rel) if focus_rel else None
            inputs = RetrievalInputs(
                conn=view.conn,
                snapshot=view.files,
                stats=view.stats,
                dense=self.embeddings.dense_search(view),
                graph=lambda focus_paths, mentioned: self._graph_rank(view, focus_paths, mentioned),
                degraded=self.degraded() + _unparsed(view.stats.unparsed_files),
            )
            return hybrid_search(inputs, query, k=k, focus_file_id=focus_id)

    def _graph_rank(
        self, view: ReadView, focus_paths: list[str], mentioned: list[str]
    ) -> dict[int, float]:
        """Personalised PageRank of files (built on first use: free text rarely needs it)."""
        graph = self.file_graph()
        if not graph.edge_count or not (focus_paths or mentioned):
            return {}
        ranking = graph.rank(focus_files=focus_paths, mentioned=mentioned, top_symbols=1)
        out: dict[int, float] = {}
        for path, score in ranking.files[:300]:
            fid = view.files.by_path.get(path)
            if fid is not None and score > 0:
                out[fid] = score
        return out

    def file_graph(self) -> CodeGraph:
        """The file-level definition/reference graph."""
        return self.db.code_graph()

    def repo_map(self, focus: str | None = None, tokens: int = 1024) -> str:
        """A token-budgeted outline of the most relevant files and symbols.

        `focus` is a workspace file, or else a symbol name or free text (searched first).
        """
        with self.db.snapshot() as view:
            indexed = set(view.files.by_path)
        focus_paths: list[str] = []
        query_text = ""
        if focus:
            try:
                rel: str | None = self.rel(focus)
            except ValueError:
                rel = None
            if rel is not None and rel in indexed:
                focus_paths.append(rel)
            else:
                query_text = focus
        return build_repo_map(self, self.file_graph(), focus_paths, query_text, tokens)

    # ------------------------------------------------------------------ navigation

    def symbols(self, rel_path: str) -> list[Symbol]:
        return self.navigation.symbols(self.rel(rel_path))

    def find_definitions(self, name: str) -> list[Symbol]:
        return self.navigation.find_definitions(name)

    def find_references(self, name: str) -> list[Reference]:
        return self.navigation.find_references(name)

    def analyze_position(self, rel_path: str, line: int) -> PositionContext:
        return self.navigation.analyze_position(self.rel(rel_path), line)

    # ------------------------------------------------------------------ health

    def degraded(self) -> list[str]:
        """Why search works with less than every signal, in words."""
        reasons = self.embeddings.degraded()
        if self.db.rebuilt:
            reasons.append(f"index was rebuilt: {self.db.rebuilt}")
        return reasons

    def stale_files(self) -> list[str]:
        """Files whose disk content differs from the index (changed, new or deleted).
        Walks and hashes the tree: for `llmgenie doctor`, not for frequent status calls."""
        known = self.db.file_states()
        open_buffers = set(self.buffers.paths())
        stale: list[str] = []
        present: set[str] = set()
        for wf in discover_files(self.root, self.settings).files:
            present.add(wf.rel_path)
            state = known.get(wf.rel_path)
            if wf.rel_path in open_buffers or (
                state is not None and state.size == wf.size and state.mtime_ns == wf.mtime_ns
            ):
                continue
            try:
                changed = state is None or content_hash(Path(wf.path).read_bytes()) != state.hash
            except OSError:
                changed = True
            if changed:
                stale.append(wf.rel_path)
        stale.extend(p for p in known if p not in present and p not in open_buffers)
        return sorted(stale)

    def health(self, *, check_stale: bool = False) -> IndexHealth:
        """Counts, embedding state and what is degraded. Cheap unless `check_stale`, which
        also compares every file on disk with the index."""
        counts = self.db.counts()
        provider = self.embeddings.provider()
        last = self.db.meta("last_indexed_at")
        degraded = self.degraded()
        stale = self.stale_files() if check_stale else None
        if last is None:
            degraded.append("workspace has not been indexed yet (run `llmgenie index`)")
        elif stale:
            degraded.append(f"{len(stale)} files changed since the last index")
        degraded.extend(_unparsed(counts["unparsed"]))
        return IndexHealth(
            root=str(self.root),
            index_path=str(self.layout.directory),
            files=counts["files"],
            symbols=counts["symbols"],
            references=counts["references"],
            chunks=counts["chunks"],
            vectors=counts["vectors"],
            stale_files=stale,
            embedding_provider=None if provider is None else provider.name,
            embedding_status=self.embeddings.raw_status,
            degraded=degraded,
            last_indexed_at=float(last) if last else None,
        )


def _unparsed(n: int) -> list[str]:
    """The degraded reason while the index's second phase has files left to parse."""
    if not n:
        return []
    return [f"{n} files not parsed yet: search sees their paths and defined names only"]
