"""IndexDatabase: one workspace's catalog behind one object, and every query the engine asks
(the catalog's write functions and schema are in llmgenie.index).

One writer connection under one lock; every reading thread gets its own connection (WAL:
readers never wait for the writer). Each write transaction bumps a generation counter in
the `meta` table, in the same transaction, so a reader can tell which state it sees.

`snapshot()` opens a read transaction and hands out the in-memory views retrieval needs
(the files table, per-chunk statistics) *for the state that transaction sees*: the
views are cached per generation and rebuilt inside the transaction when they are stale, so
a search never mixes rows of two index states.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmgenie.context.graph import CodeGraph
from llmgenie.contracts.search import ChunkHit
from llmgenie.contracts.symbols import Symbol
from llmgenie.index import catalog
from llmgenie.index.code_graph import load_code_graph
from llmgenie.index.schema import (
    chunk_text,
    connect,
    mark_clean_close,
    open_catalog,
    ref_kind_name,
    unpack_docs,
)
from llmgenie.retrieval.lexical import ChunkStats
from llmgenie.retrieval.snapshot import FilesSnapshot

# One edit barely moves PageRank: a graph up to this old may answer a search.
GRAPH_MAX_AGE_S = 30.0
_SYMBOL_COLUMNS = (
    "s.name, coalesce(nullif(s.qualified_name, ''), s.name), s.kind, f.path, s.start_line,"
    " s.end_line, s.start_col, s.file_id, s.doc, s.parent"
)


def _symbols(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Symbol]:
    """Symbols from _SYMBOL_COLUMNS rows, with signatures and docstrings from their files'
    blobs (index/schema.py), read in the caller's transaction."""
    wanted = sorted({int(r[7]) for r in rows if r[8] is not None})
    docs: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        for fid, blob in conn.execute(
            f"SELECT file_id, docs FROM symbol_docs WHERE file_id IN ({marks})", part
        ):
            docs[int(fid)] = unpack_docs(blob)
    out: list[Symbol] = []
    for row in rows:
        file_docs = docs.get(int(row[7]), [])
        doc = row[8]
        signature, docstring = (
            file_docs[doc] if doc is not None and doc < len(file_docs) else ("", "")
        )
        out.append(
            Symbol(
                name=row[0],
                qualified_name=row[1],
                kind=row[2],
                path=row[3],
                start_line=row[4],
                end_line=row[5],
                start_col=row[6],
                signature=signature,
                docstring=docstring,
                parent=row[9],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class ReadView:
    """A consistent read of the catalog: the connection inside its read transaction and
    the views that match what it sees."""

    conn: sqlite3.Connection
    generation: int
    files: FilesSnapshot
    stats: ChunkStats


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file the catalog holds: its id and language."""

    file_id: int
    language: str | None


class IndexDatabase:
    """The catalog of one workspace: writes, consistent reads, and the engine's queries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer, self.rebuilt = open_catalog(path)
        self.write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._files: tuple[int, FilesSnapshot] | None = None
        self._stats: tuple[int, ChunkStats] | None = None
        self._embedded: tuple[int, int] | None = None
        self._graph: tuple[int, float, CodeGraph] | None = None

    def close(self) -> None:
        """Close every connection and record a clean shutdown (skips the check next time)."""
        with self.write_lock:
            mark_clean_close(self.writer)
            self.writer.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The writer inside one transaction (the generation is bumped in it)."""
        with self.write_lock, catalog.transaction(self.writer):
            yield self.writer

    def stored_hash(self, rel: str) -> str | None:
        """The content hash the catalog holds for `rel` (None: not indexed)."""
        with self.write_lock:
            row = self.writer.execute("SELECT hash FROM files WHERE path=?", (rel,)).fetchone()
        return None if row is None else str(row[0])

    def meta(self, key: str) -> str | None:
        with self.write_lock:
            return catalog.get_meta(self.writer, key)

    # ------------------------------------------------------------------ reading

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            self._local.depth = 0
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """This thread's reader inside a read transaction (re-entrant)."""
        conn = self._reader()
        outer = self._local.depth == 0
        if outer:
            conn.execute("BEGIN")
        self._local.depth += 1
        try:
            yield conn
        finally:
            self._local.depth -= 1
            if outer:
                conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[ReadView]:
        """A consistent view for searches (see the module docstring)."""
        with self._read() as conn:
            generation = catalog.generation(conn, catalog.GENERATION)
            files_generation = catalog.generation(conn, catalog.FILES_GENERATION)
            with self._cache_lock:
                files = (
                    self._files[1] if self._files and self._files[0] == files_generation else None
                )
                stats = self._stats[1] if self._stats and self._stats[0] == generation else None
            if files is None:
                files = FilesSnapshot.load(conn)
                with self._cache_lock:
                    self._files = (files_generation, files)
            if stats is None:
                stats = ChunkStats.load(conn)
                with self._cache_lock:
                    self._stats = (generation, stats)
            yield ReadView(conn, generation, files, stats)

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
            return catalog.counts(conn)

    def file_states(self) -> dict[str, catalog.FileState]:
        with self._read() as conn:
            return catalog.file_states(conn)

    def embedded_counts(self) -> tuple[int, int]:
        """(chunks, chunks with a vector), cached per generation."""
        with self.snapshot() as view:
            with self._cache_lock:
                if self._embedded is not None and self._embedded[0] == view.generation:
                    return view.stats.count, self._embedded[1]
            row = view.conn.execute("SELECT count(*) FROM chunks WHERE embedded=1").fetchone()
            with self._cache_lock:
                self._embedded = (view.generation, int(row[0]))
            return view.stats.count, int(row[0])

    def code_graph(self) -> CodeGraph:
        """The file-level definition/reference graph (rebuilt lazily, see GRAPH_MAX_AGE_S)."""
        with self._read() as conn:
            generation = catalog.generation(conn, catalog.GENERATION)
            with self._cache_lock:
                cached = self._graph
            if cached is not None and (
                cached[0] == generation or time.monotonic() - cached[1] < GRAPH_MAX_AGE_S
            ):
                return cached[2]
            graph = load_code_graph(conn)
        with self._cache_lock:
            self._graph = (generation, time.monotonic(), graph)
        return graph

    # ------------------------------------------------------------------ symbols

    def file_entry(self, rel: str) -> FileEntry | None:
        with self._read() as conn:
            row = conn.execute("SELECT id, language FROM files WHERE path=?", (rel,)).fetchone()
        return None if row is None else FileEntry(int(row[0]), row[1])

    def symbols_in(self, rel: str) -> list[Symbol]:
        """A file's definitions in source order."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id"
                " WHERE f.path=? ORDER BY s.start_line, s.id",
                (rel,),
            ).fetchall()
            return _symbols(conn, rows)

    def definitions_named(self, name: str, limit: int = 500) -> list[Symbol]:
        """Definitions whose name equals `name` case-insensitively; non-test files first."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id"
                " WHERE coalesce(s.name_key, s.name)=?"
                " ORDER BY f.is_test, f.path, s.start_line LIMIT ?",
                (name.lower(), limit),
            ).fetchall()
            return _symbols(conn, rows)

    def files_referencing(self, name: str, limit: int = 2000) -> dict[str, str]:
        """path -> reference kind, for files the parser saw using `name` (non-test first)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT f.path, r.kind FROM refs r JOIN files f ON f.id = r.file_id"
                " WHERE r.name=? ORDER BY f.is_test, f.path LIMIT ?",
                (name, limit),
            ).fetchall()
        out: dict[str, str] = {}
        for path, kind in rows:
            out.setdefault(str(path), ref_kind_name(kind))
        return out

    def chunk_at(self, rel: str, line: int) -> ChunkHit | None:
        """The smallest chunk of `rel` containing 1-based `line`, with its text."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT c.start_line, c.end_line, c.symbol, c.text, t.text FROM chunks c"
                " JOIN files f ON f.id=c.file_id LEFT JOIN file_texts t ON t.file_id=c.file_id"
                " WHERE f.path=? AND c.start_line<=? AND c.end_line>=?"
                " ORDER BY c.end_line-c.start_line LIMIT 1",
                (rel, line, line),
            ).fetchone()
        if row is None:
            return None
        return ChunkHit(
            path=rel,
            start_line=row[0],
            end_line=row[1],
            symbol=row[2],
            score=1.0,
            text=chunk_text(row[3], row[4], row[0], row[1]),
        )

    def chunks_for_vectors(
        self, conn: sqlite3.Connection, sims: dict[str, float]
    ) -> list[tuple[int, float]]:
        """(chunk id, similarity) for the vector ids a dense query returned, best first."""
        by_id: dict[int, float] = {}
        for key, sim in sims.items():
            with contextlib.suppress(ValueError):  # not a catalog id (an older store's)
                by_id[int(key)] = sim
        if not by_id:
            return []
        marks = ",".join("?" * len(by_id))
        rows = conn.execute(
            # `+embedded`: look the ids up in chunks_vec; the planner would otherwise walk
            # every embedded chunk in chunks_pending.
            f"SELECT id, vec_id FROM chunks WHERE +embedded=1 AND vec_id IN ({marks})",
            list(by_id),
        ).fetchall()
        found = [(int(cid), by_id[int(vid)]) for cid, vid in rows]
        found.sort(key=lambda x: -x[1])
        return found
