"""WorkspaceEngine: the one service the CLI, the language server and the agents call.

It owns a workspace's persistent index and answers questions about it. It knows nothing
about LSP. Methods are thread-safe: the LSP layer calls them from worker threads. Writes
go through one connection under one lock; every reading thread gets its own connection
(WAL mode: readers never wait for the writer).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmgenie.config import Settings, load_settings
from llmgenie.context.graph import CodeGraph
from llmgenie.context.models import Reference, Symbol
from llmgenie.index import catalog
from llmgenie.index.code_graph import load_code_graph
from llmgenie.index.embeddings.base import EmbeddingProvider, EmbeddingUnavailable
from llmgenie.index.indexer import run_index_pass
from llmgenie.index.layout import IndexLayout, layout_for
from llmgenie.index.models import (
    IndexHealth,
    IndexSummary,
    PositionContext,
    ReferenceInfo,
    SymbolInfo,
)
from llmgenie.index.schema import connect, mark_clean_close, open_catalog
from llmgenie.index.vectors import VectorStore, VectorStoreError
from llmgenie.index.worker import FileTask, WorkerConfig, hash_text, prepare_file, prepare_text
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import INDEX_UPDATE_LATENCY
from llmgenie.progress import CancelToken, ProgressCallback
from llmgenie.retrieval.hybrid import RetrievalInputs, hybrid_search
from llmgenie.retrieval.lexical import ChunkStats
from llmgenie.retrieval.models import ChunkHit, SearchResult
from llmgenie.retrieval.snapshot import FilesSnapshot
from llmgenie.workspace.discovery import discover_files
from llmgenie.workspace.files import content_hash, resolve_inside, to_rel

_log = get_logger(__name__)

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GRAPH_MAX_AGE_S = 30.0
_SYMBOL_COLUMNS = (
    "s.name, s.qualified_name, s.kind, f.path, s.start_line, s.end_line, s.start_col,"
    " s.signature, s.docstring, s.parent"
)


def _symbol(row: tuple[Any, ...]) -> Symbol:
    return Symbol(
        name=row[0],
        qualified_name=row[1],
        kind=row[2],
        path=row[3],
        start_line=row[4],
        end_line=row[5],
        start_col=row[6],
        signature=row[7],
        docstring=row[8],
        parent=row[9],
    )


def _symbol_info(sym: Symbol) -> SymbolInfo:
    return SymbolInfo(
        name=sym.name,
        qualified_name=sym.qualified_name,
        kind=sym.kind,
        path=sym.path,
        start_line=sym.start_line,
        end_line=sym.end_line,
        signature=sym.signature,
        docstring=sym.docstring,
    )


class WorkspaceEngine:
    """Index + retrieval for one workspace root."""

    root: Path
    settings: Settings

    def __init__(
        self,
        root: Path,
        settings: Settings,
        layout: IndexLayout,
        conn: sqlite3.Connection,
        rebuilt: str | None,
    ) -> None:
        self.root = root
        self.settings = settings
        self.layout = layout
        self._writer = conn
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._overlay: dict[str, str] = {}
        self._overlay_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._files_generation = 0
        self._content_generation = 0
        self._snapshot: tuple[int, FilesSnapshot] | None = None
        self._chunk_stats: tuple[int, ChunkStats] | None = None
        self._embedded_count: tuple[int, int] | None = None
        self._graph: tuple[int, float, CodeGraph] | None = None
        self._central: tuple[CodeGraph, dict[int, float]] | None = None
        self._provider_lock = threading.Lock()
        self._provider_loaded = False
        self._provider: EmbeddingProvider | None = None
        self._provider_status = "not loaded yet"
        self._vectors = VectorStore(layout, settings.index.chroma_url)
        self._vector_error: str | None = None
        self._rebuilt = rebuilt
        self._closed = False
        self._config = WorkerConfig(settings.index.max_file_bytes, settings.index.chunk_max_lines)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> WorkspaceEngine:
        """Open (or create, or rebuild if corrupt) the index for `root`."""
        resolved = Path(os.path.realpath(root))
        if not resolved.is_dir():
            raise NotADirectoryError(f"workspace root is not a directory: {root}")
        settings = settings if settings is not None else load_settings(resolved)
        layout = layout_for(resolved, settings)
        conn, rebuilt = open_catalog(layout.catalog_path)
        if rebuilt:
            _log.warning("index_rebuilding", root=str(resolved), reason=rebuilt)
        _log.debug("engine_opened", root=str(resolved), index=str(layout.directory))
        return cls(resolved, settings, layout, conn, rebuilt)

    def close(self) -> None:
        """Close connections and record a clean shutdown (skips the integrity check next time)."""
        if self._closed:
            return
        self._closed = True
        with self._write_lock:
            mark_clean_close(self._writer)
            self._writer.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        self._vectors.close()

    def __enter__(self) -> WorkspaceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.layout.catalog_path)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _changed(self, files_changed: bool) -> None:
        with self._cache_lock:
            self._content_generation += 1
            if files_changed:
                self._files_generation += 1

    # ------------------------------------------------------------------ paths

    def _rel(self, rel_path: str) -> str:
        """Normalise a client path to workspace-relative posix, refusing escapes."""
        resolved = resolve_inside(self.root, rel_path, allow_absolute=True)
        return to_rel(self.root, resolved)

    def read_text(self, rel_path: str) -> str:
        """Current text of a file (buffer overlay first), path checked to stay inside root."""
        rel = self._rel(rel_path)
        with self._overlay_lock:
            if rel in self._overlay:
                return self._overlay[rel]
        data = resolve_inside(self.root, rel).read_bytes()
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ indexing

    def index(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IndexSummary:
        """Bring the index up to date with disk: parse changed files, drop deleted ones."""
        started = time.perf_counter()
        with self._overlay_lock:
            open_buffers = set(self._overlay)
        result = run_index_pass(
            self.root,
            self.settings,
            self._writer,
            self._write_lock,
            exclude=open_buffers,
            progress=progress,
            cancel=cancel,
            on_commit=lambda: self._changed(True),
        )
        counts = self._counts()
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

    def _counts(self) -> dict[str, int]:
        return catalog.counts(self._reader())

    def update_document(self, rel_path: str, text: str) -> None:
        """Re-index one file from an in-memory buffer (the editor's unsaved text)."""
        started = time.perf_counter()
        rel = self._rel(rel_path)
        with self._overlay_lock:
            self._overlay[rel] = text
        digest = hash_text(text)
        with self._write_lock:
            row = self._writer.execute("SELECT hash FROM files WHERE path=?", (rel,)).fetchone()
        if row is not None and row[0] == digest:
            return
        payload = prepare_text(
            rel,
            text,
            self._config,
            size=len(text.encode("utf-8", "surrogatepass")),
            mtime_ns=-1,
            content_hash_=digest,
        )
        with self._write_lock, catalog.transaction(self._writer):
            catalog.BatchWriter(self._writer).write([payload])
        self._changed(files_changed=row is None)
        INDEX_UPDATE_LATENCY.observe(time.perf_counter() - started)

    def close_document(self, rel_path: str) -> None:
        """Forget the buffer overlay for `rel_path` and re-read it from disk."""
        rel = self._rel(rel_path)
        with self._overlay_lock:
            self._overlay.pop(rel, None)
        self.refresh_paths([rel])

    def remove_document(self, rel_path: str) -> None:
        """Delete a file's rows everywhere (catalog, lexical, vectors)."""
        rel = self._rel(rel_path)
        with self._overlay_lock:
            self._overlay.pop(rel, None)
        with self._write_lock, catalog.transaction(self._writer):
            removed = catalog.delete_files(self._writer, [rel])
        if removed:
            self._changed(True)
            self._flush_vector_deletes()

    def refresh_paths(self, rel_paths: list[str]) -> None:
        """Re-read these files from disk (watched-file events); missing ones are removed."""
        payloads = []
        removed: list[str] = []
        for raw in rel_paths:
            rel = self._rel(raw)
            with self._overlay_lock:
                if rel in self._overlay:
                    continue  # the editor's buffer is the truth while the file is open
            path = resolve_inside(self.root, rel)
            try:
                info = path.stat()
            except OSError:
                removed.append(rel)
                continue
            if not path.is_file():
                removed.append(rel)
                continue
            with self._write_lock:
                state = self._writer.execute(
                    "SELECT hash FROM files WHERE path=?", (rel,)
                ).fetchone()
            task = FileTask(
                rel, str(path), info.st_size, info.st_mtime_ns, state[0] if state else None
            )
            payloads.append(prepare_file(task, self._config))
        if not payloads and not removed:
            return
        with self._write_lock, catalog.transaction(self._writer):
            if removed:
                catalog.delete_files(self._writer, removed)
            catalog.BatchWriter(self._writer).write(payloads)
        self._changed(True)

    # ------------------------------------------------------------------ embeddings

    def _load_provider(self) -> EmbeddingProvider | None:
        """Load the embedding provider once; no provider is the normal degraded case."""
        with self._provider_lock:
            if self._provider_loaded:
                return self._provider
            self._provider_loaded = True
            if self.settings.index.embeddings == "none":
                self._provider_status = "disabled by settings (index.embeddings = none)"
            else:
                try:
                    from llmgenie.index.embeddings.factory import (
                        load_provider,
                    )

                    self._provider, self._provider_status = load_provider(self.settings)
                except Exception as exc:  # a broken provider must never break the engine
                    self._provider = None
                    self._provider_status = f"embedding provider failed to load: {exc}"
            if self._provider is None:
                _log.info("embeddings_unavailable", reason=self._provider_status)
            else:
                _log.info("embeddings_ready", provider=self._provider.name, dim=self._provider.dim)
            return self._provider

    def use_embedding_provider(self, provider: EmbeddingProvider | None, status: str) -> None:
        """Install a provider instead of loading one from settings (embedders, tests)."""
        with self._provider_lock:
            self._provider_loaded = True
            self._provider = provider
            self._provider_status = status

    def embedding_status(self) -> str:
        """A one-line status of the embedding provider (loading it if needed)."""
        provider = self._load_provider()
        if provider is None:
            return self._provider_status
        return f"{provider.name} (dim {provider.dim}): {self._provider_status}"

    def _flush_vector_deletes(self) -> None:
        if self._vector_error is not None or self._provider is None:
            return  # deletions stay queued in the catalog until vectors are in use
        from llmgenie.index.embedding_jobs import flush_deletes

        try:
            flush_deletes(self._writer, self._write_lock, self._vectors)
        except VectorStoreError as exc:
            self._vector_error = str(exc)

    def embed_pending(
        self,
        priority: list[str] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Embed chunks that have no vector yet, `priority` files first; returns count."""
        provider = self._load_provider()
        if provider is None:
            return 0
        from llmgenie.index.embedding_jobs import embed_pending_chunks

        prio = []
        for p in priority or []:
            try:
                prio.append(self._rel(p))
            except ValueError:
                continue
        try:
            done = embed_pending_chunks(
                self._writer, self._write_lock, self._vectors, provider, prio, progress, cancel
            )
        except VectorStoreError as exc:
            self._vector_error = str(exc)
            _log.warning("vectors_unavailable", error=str(exc))
            return 0
        except EmbeddingUnavailable as exc:
            # The provider went away (Ollama stopped, model build failed): degrade, say why.
            self.use_embedding_provider(None, f"embedding provider unavailable: {exc}")
            _log.warning("embeddings_unavailable", reason=str(exc))
            return 0
        self._vector_error = None
        if done:
            self._changed(False)
        return done

    def _dense_search(self) -> Callable[[str, int], list[tuple[int, float]]] | None:
        """A dense search function when vectors exist and a provider can embed the query."""
        counts = self._chunk_counts()
        if counts[1] == 0 or self._vector_error is not None:
            return None
        provider = self._load_provider()
        if provider is None:
            return None
        reader = self._reader()

        def search(query: str, n: int) -> list[tuple[int, float]]:
            try:
                vec = provider.embed([query[:4000]])[0]
                hits = self._vectors.query(vec, n)
            except (VectorStoreError, Exception) as exc:
                self._vector_error = str(exc)
                _log.warning("dense_search_failed", error=str(exc))
                return []
            if not hits:
                return []
            sims = dict(hits)
            marks = ",".join("?" * len(sims))
            rows = reader.execute(
                f"SELECT id, vec_id FROM chunks WHERE embedded=1 AND vec_id IN ({marks})",
                list(sims),
            ).fetchall()
            found = [(int(cid), sims[str(vid)]) for cid, vid in rows]
            found.sort(key=lambda x: -x[1])
            return found

        return search

    # ------------------------------------------------------------------ retrieval

    def _files_snapshot(self) -> FilesSnapshot:
        with self._cache_lock:
            gen = self._files_generation
            if self._snapshot is not None and self._snapshot[0] == gen:
                return self._snapshot[1]
        snap = FilesSnapshot.load(self._reader())
        with self._cache_lock:
            self._snapshot = (gen, snap)
        return snap

    def _stats(self) -> ChunkStats:
        """Per-chunk file ids and lengths for lexical scoring, cached per content generation."""
        with self._cache_lock:
            gen = self._content_generation
            if self._chunk_stats is not None and self._chunk_stats[0] == gen:
                return self._chunk_stats[1]
        stats = ChunkStats.load(self._reader())
        with self._cache_lock:
            self._chunk_stats = (gen, stats)
        return stats

    def _chunk_counts(self) -> tuple[int, int]:
        """(chunks, embedded chunks), cached per content generation."""
        total = self._stats().count
        with self._cache_lock:
            gen = self._content_generation
            if self._embedded_count is not None and self._embedded_count[0] == gen:
                return total, self._embedded_count[1]
        row = self._reader().execute("SELECT count(*) FROM chunks WHERE embedded=1").fetchone()
        with self._cache_lock:
            self._embedded_count = (gen, int(row[0]))
        return total, int(row[0])

    def file_graph(self) -> CodeGraph:
        """The file-level definition/reference graph (rebuilt lazily; small edits may reuse
        a graph up to 30 s old, because one edit barely moves PageRank)."""
        with self._cache_lock:
            gen = self._content_generation
            cached = self._graph
        if cached is not None and (
            cached[0] == gen or time.monotonic() - cached[1] < _GRAPH_MAX_AGE_S
        ):
            return cached[2]
        graph = load_code_graph(self._reader())
        with self._cache_lock:
            self._graph = (gen, time.monotonic(), graph)
        return graph

    def _degraded(self) -> list[str]:
        reasons: list[str] = []
        total, embedded = self._chunk_counts()
        if self._provider_loaded and self._provider is None:
            reasons.append(f"dense retrieval off: {self._provider_status}")
        elif embedded == 0 and total > 0:
            reasons.append("dense retrieval off: no chunk has a vector yet (run embed)")
        elif embedded < total:
            reasons.append(f"dense retrieval partial: {embedded}/{total} chunks have vectors")
        if self._vector_error is not None:
            reasons.append(f"vector store unavailable: {self._vector_error}")
        if self._rebuilt:
            reasons.append(f"index was rebuilt: {self._rebuilt}")
        return reasons

    def ensure_indexed(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> IndexSummary | None:
        """Index once if the catalog has never completed a pass (used by CLI search/map)."""
        with self._write_lock:
            last = catalog.get_meta(self._writer, "last_indexed_at")
        if last is None:
            return self.index(progress, cancel)
        return None

    def search(self, query: str, k: int = 10, focus: str | None = None) -> SearchResult:
        """Hybrid search; `focus` is a workspace-relative file that personalises the graph."""
        k = max(1, min(int(k), 500))
        snap = self._files_snapshot()
        focus_id: int | None = None
        if focus:
            try:
                focus_id = snap.by_path.get(self._rel(focus))
            except ValueError:
                focus_id = None

        def graph_rank(focus_paths: list[str], mentioned: list[str]) -> dict[int, float]:
            # Built on first use only: free-text searches usually do not need the graph.
            graph = self.file_graph()
            if not graph.edge_count:
                return {}
            if not focus_paths and not mentioned:
                return self._centrality(graph, snap)
            ranking = graph.rank(focus_files=focus_paths, mentioned=mentioned, top_symbols=1)
            out: dict[int, float] = {}
            for path, score in ranking.files[:300]:
                fid = snap.by_path.get(path)
                if fid is not None and score > 0:
                    out[fid] = score
            return out

        inputs = RetrievalInputs(
            conn=self._reader(),
            snapshot=snap,
            stats=self._stats(),
            dense=self._dense_search(),
            graph=graph_rank,
            degraded=self._degraded(),
        )
        return hybrid_search(inputs, query, k=k, focus_file_id=focus_id)

    def _centrality(self, graph: CodeGraph, snap: FilesSnapshot) -> dict[int, float]:
        """Plain PageRank per file, computed once per graph."""
        cached = self._central
        if cached is not None and cached[0] is graph:
            return cached[1]
        ranking = graph.rank(top_symbols=1)
        out = {
            fid: score
            for path, score in ranking.files
            if (fid := snap.by_path.get(path)) is not None and score > 0
        }
        self._central = (graph, out)
        return out

    def repo_map(self, focus: str | None = None, tokens: int = 1024) -> str:
        """A token-budgeted outline of the most relevant files and symbols.

        `focus` is a workspace file, or else a symbol name or free text (searched first).
        """
        from llmgenie.index.repo_map import build_repo_map

        snap = self._files_snapshot()
        focus_paths: list[str] = []
        query_text = ""
        if focus:
            try:
                rel: str | None = self._rel(focus)
            except ValueError:
                rel = None
            if rel is not None and rel in snap.by_path:
                focus_paths.append(rel)
            else:
                query_text = focus
        return build_repo_map(self, self.file_graph(), focus_paths, query_text, tokens)

    # ------------------------------------------------------------------ symbols

    def symbols(self, rel_path: str) -> list[Symbol]:
        rel = self._rel(rel_path)
        rows = self._reader().execute(
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id"
            " WHERE f.path=? ORDER BY s.start_line, s.id",
            (rel,),
        )
        return [_symbol(r) for r in rows]

    def find_definitions(self, name: str) -> list[Symbol]:
        """Definitions named `name` (or `Parent.name` / a qualified name), best guesses first."""
        if not name:
            return []
        tail = name.rsplit(".", 1)[-1]
        rows = [
            _symbol(r)
            for r in self._reader().execute(
                f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id"
                " WHERE s.name_key=? ORDER BY f.is_test, f.path, s.start_line LIMIT 500",
                (tail.lower(),),
            )
        ]
        exact = [s for s in rows if s.name == tail]
        rows = exact or rows
        if "." in name:
            qualified = [s for s in rows if s.qualified_name.endswith(name)]
            rows = qualified or rows
        return rows

    def find_references(self, name: str) -> list[Reference]:
        """Every use of `name` in files the parser saw referencing it (positions from text)."""
        if not name:
            return []
        tail = name.rsplit(".", 1)[-1]
        rows = (
            self._reader()
            .execute(
                "SELECT f.path, r.kind, r.count, r.positions FROM refs r JOIN files f"
                " ON f.id = r.file_id WHERE r.name=? ORDER BY f.is_test, f.path LIMIT 2000",
                (tail,),
            )
            .fetchall()
        )
        out: list[Reference] = []
        pattern = re.compile(r"(?<![\w])" + re.escape(tail) + r"(?![\w])")
        by_file: dict[str, str] = {}
        for path, kind, _count, _positions in rows:
            by_file.setdefault(path, kind)
        for path, kind in by_file.items():
            try:
                text = self.read_text(path)
            except (OSError, ValueError):
                continue
            for lineno, line in enumerate(text.splitlines(), start=1):
                for m in pattern.finditer(line):
                    out.append(Reference(tail, path, lineno, m.start(), kind))
            if len(out) > 5000:
                break
        return out

    def analyze_position(self, rel_path: str, line: int, col: int = 0) -> PositionContext:
        """Enclosing symbol, related definitions, references and chunks at a 1-based line."""
        rel = self._rel(rel_path)
        reader = self._reader()
        row = reader.execute("SELECT id, language FROM files WHERE path=?", (rel,)).fetchone()
        language = None if row is None else row[1]
        ctx = PositionContext(path=rel, line=line, language=language)
        if row is None:
            return ctx
        syms = [s for s in self.symbols(rel) if s.start_line <= line <= s.end_line]
        if not syms:
            return self._with_chunks(ctx, row[0], line, [])
        # Innermost enclosing definition: smallest span, ties to the later start.
        enclosing = min(syms, key=lambda s: (s.end_line - s.start_line, -s.start_line))
        ctx.enclosing_symbol = _symbol_info(enclosing)
        try:
            lines = self.read_text(rel).splitlines()[enclosing.start_line - 1 : enclosing.end_line]
        except (OSError, ValueError):
            lines = []
        names: dict[str, None] = {}
        for text_line in lines[1:] if len(lines) > 1 else lines:
            for name in _IDENT_RE.findall(text_line):
                if name != enclosing.name and len(name) > 2:
                    names.setdefault(name, None)
        related: list[Symbol] = []
        for name in list(names)[:300]:
            defs = [d for d in self.find_definitions(name) if d.name == name]
            if defs and len(defs) <= 5:
                # Prefer the definition in this file, then non-test files.
                defs.sort(key=lambda d: (d.path != rel, d.path))
                related.append(defs[0])
            if len(related) >= 20:
                break
        ctx.related_definitions = [_symbol_info(s) for s in related]
        refs = [
            r
            for r in self.find_references(enclosing.name)
            if not (r.path == rel and enclosing.start_line <= r.line <= enclosing.end_line)
        ]
        ctx.references = [
            ReferenceInfo(name=r.name, path=r.path, line=r.line, col=r.col, kind=r.kind)
            for r in refs[:50]
        ]
        return self._with_chunks(ctx, row[0], line, related[:5])

    def _with_chunks(
        self, ctx: PositionContext, file_id: int, line: int, related: list[Symbol]
    ) -> PositionContext:
        reader = self._reader()
        hits: list[ChunkHit] = []
        here = reader.execute(
            "SELECT start_line, end_line, symbol, text FROM chunks WHERE file_id=? AND"
            " start_line<=? AND end_line>=? ORDER BY end_line-start_line LIMIT 1",
            (file_id, line, line),
        ).fetchone()
        if here is not None:
            hits.append(
                ChunkHit(
                    path=ctx.path,
                    start_line=here[0],
                    end_line=here[1],
                    symbol=here[2],
                    score=1.0,
                    text=here[3],
                )
            )
        for rank, sym in enumerate(related, start=2):
            row = reader.execute(
                "SELECT c.start_line, c.end_line, c.symbol, c.text FROM chunks c JOIN files f"
                " ON f.id=c.file_id WHERE f.path=? AND c.start_line<=? AND c.end_line>=?"
                " ORDER BY c.end_line-c.start_line LIMIT 1",
                (sym.path, sym.start_line, sym.start_line),
            ).fetchone()
            if row is not None:
                hits.append(
                    ChunkHit(
                        path=sym.path,
                        start_line=row[0],
                        end_line=row[1],
                        symbol=row[2],
                        score=round(1.0 / rank, 4),
                        text=row[3],
                    )
                )
        ctx.chunks = hits
        return ctx

    # ------------------------------------------------------------------ health

    def stale_files(self) -> list[str]:
        """Files whose disk content differs from the index (changed, new or deleted)."""
        reader = self._reader()
        known = catalog.file_states(reader)
        discovery = discover_files(self.root, self.settings)
        with self._overlay_lock:
            open_buffers = set(self._overlay)
        stale: list[str] = []
        present: set[str] = set()
        for wf in discovery.files:
            present.add(wf.rel_path)
            if wf.rel_path in open_buffers:
                continue
            state = known.get(wf.rel_path)
            if state is None:
                stale.append(wf.rel_path)
                continue
            if state.size == wf.size and state.mtime_ns == wf.mtime_ns:
                continue
            try:
                data = Path(wf.path).read_bytes()
            except OSError:
                stale.append(wf.rel_path)
                continue
            if content_hash(data) != state.hash:
                stale.append(wf.rel_path)
        stale.extend(p for p in known if p not in present and p not in open_buffers)
        return sorted(stale)

    def health(self) -> IndexHealth:
        counts = self._counts()
        provider = self._load_provider()
        with self._write_lock:
            last = catalog.get_meta(self._writer, "last_indexed_at")
        degraded = self._degraded()
        stale = self.stale_files()
        if last is None:
            degraded.append("workspace has not been indexed yet (run `llmgenie index`)")
        elif stale:
            degraded.append(f"{len(stale)} files changed since the last index")
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
            embedding_status=self._provider_status,
            degraded=degraded,
            last_indexed_at=float(last) if last else None,
        )
