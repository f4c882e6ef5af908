"""Writes to the catalog: replace a file's rows, delete files, bookkeeping.

The caller holds the engine's writer lock and wraps calls in `transaction()`, so a batch
of files lands atomically: a killed process leaves whole files or nothing, and the next
`index()` simply continues with whatever is still out of date.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from llmgenie.index.payload import ChunkRow, FilePayload
from llmgenie.index.schema import CHUNK_FTS_TABLES, pack_docs, pack_text, ref_kind_code
from llmgenie.index.tokens import any_tokens, fts_text, names_tokens, symbol_only_tokens


@dataclass(frozen=True, slots=True)
class FileState:
    """What the catalog remembers about a file to decide whether it changed."""

    file_id: int
    size: int
    mtime_ns: int
    hash: str
    state: str = "indexed"
    """"lexical" while only the first phase has seen the file (see index/indexer.py)."""


# Counters in `meta`, bumped inside the write transactions that change what they cover, so
# a reader learns from its own transaction which state it sees (see engine/database.py).
GENERATION = "generation"  # any change
FILES_GENERATION = "files_generation"  # a file added or removed


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on an autocommit connection; bumps the
    generation in the same transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        bump(conn, GENERATION)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def bump(conn: sqlite3.Connection, key: str) -> None:
    """Increment a generation counter (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, '1') "
        "ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER) + 1",
        (key,),
    )


def generation(conn: sqlite3.Connection, key: str) -> int:
    """A generation counter as this connection's transaction sees it (0 if never bumped)."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return 0 if row is None else int(row[0])


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )


def file_states(conn: sqlite3.Connection) -> dict[str, FileState]:
    """path -> state for every indexed file."""
    return {
        path: FileState(fid, size, mtime, digest, state)
        for fid, path, size, mtime, digest, state in conn.execute(
            "SELECT id, path, size, mtime_ns, hash, state FROM files"
        )
    }


def file_id(conn: sqlite3.Connection, path: str) -> int | None:
    row = conn.execute("SELECT id FROM files WHERE path=?", (path,)).fetchone()
    return None if row is None else int(row[0])


def _clear_file_rows(conn: sqlite3.Connection, fid: int) -> dict[int, int]:
    """Drop a file's dependent rows; return its old vec_id -> embedded flags."""
    old = {
        vid: emb
        for vid, emb in conn.execute("SELECT vec_id, embedded FROM chunks WHERE file_id=?", (fid,))
    }
    for table in CHUNK_FTS_TABLES:
        conn.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT id FROM chunks WHERE file_id=?)", (fid,)
        )
    conn.execute("DELETE FROM chunks WHERE file_id=?", (fid,))
    conn.execute("DELETE FROM file_texts WHERE file_id=?", (fid,))
    _clear_non_chunk_rows(conn, fid)
    return old


def _clear_non_chunk_rows(conn: sqlite3.Connection, fid: int) -> None:
    conn.execute("DELETE FROM files_fts WHERE rowid=?", (fid,))  # reads the symbols: first
    conn.execute("DELETE FROM symbols WHERE file_id=?", (fid,))
    conn.execute("DELETE FROM symbol_docs WHERE file_id=?", (fid,))
    conn.execute("DELETE FROM refs WHERE file_id=?", (fid,))
    conn.execute("DELETE FROM imports WHERE file_id=?", (fid,))


def _reuse_chunks(
    conn: sqlite3.Connection, fid: int, new_chunks: list[ChunkRow], text_blob: bytes | None
) -> tuple[list[ChunkRow], list[int]]:
    """Keep the rows of chunks whose text is unchanged (same vec_id), fixing their line
    numbers, and delete the rest; then store the file's new text. Returns the chunks still
    to insert and the vec_ids of embedded chunks that disappeared. Editing one function of
    a large file then touches one chunk's FTS row instead of the whole file's.

    A kept row without a text of its own reads its lines of the new file text, which hold
    the same text (same vec_id); without a new file text (`text_blob` None) no row is kept.
    The FTS rows go first: their tokens are re-derived from the old text."""
    old = {
        int(vid): (int(cid), int(start), int(end), emb)
        for cid, vid, start, end, emb in conn.execute(
            "SELECT id, vec_id, start_line, end_line, embedded FROM chunks WHERE file_id=?", (fid,)
        )
    }
    to_insert: list[ChunkRow] = []
    moved: list[tuple[int, int, str | None, str, int]] = []
    kept: set[int] = set()
    for row in new_chunks:
        start, end, symbol, kind, _text, vid = row[0], row[1], row[2], row[3], row[4], row[5]
        found = old.get(vid) if text_blob is not None else None
        if found is None:
            to_insert.append(row)
            continue
        kept.add(vid)
        if (found[1], found[2]) != (start, end):
            moved.append((start, end, symbol, kind, found[0]))
    gone = [(cid,) for vid, (cid, _, _, _) in old.items() if vid not in kept]
    for table in CHUNK_FTS_TABLES:
        conn.executemany(f"DELETE FROM {table} WHERE rowid=?", gone)
    conn.executemany("DELETE FROM chunks WHERE id=?", gone)
    _store_text(conn, fid, text_blob)
    conn.executemany(
        "UPDATE chunks SET start_line=?, end_line=?, symbol=?, kind=? WHERE id=?", moved
    )
    dropped = [vid for vid, (_, _, _, emb) in old.items() if emb and vid not in kept]
    return to_insert, dropped


def _store_text(conn: sqlite3.Connection, fid: int, text_blob: bytes | None) -> None:
    if text_blob is None:
        conn.execute("DELETE FROM file_texts WHERE file_id=?", (fid,))
    else:
        conn.execute(
            "INSERT OR REPLACE INTO file_texts(file_id, text) VALUES (?, ?)", (fid, text_blob)
        )


def delete_files(conn: sqlite3.Connection, paths: Iterable[str]) -> int:
    """Remove files and every row that hangs off them; queue their vectors for deletion."""
    removed = 0
    for path in paths:
        fid = file_id(conn, path)
        if fid is None:
            continue
        old = _clear_file_rows(conn, fid)
        conn.executemany(
            "INSERT OR IGNORE INTO vector_deletes(vec_id) VALUES (?)",
            [(vid,) for vid, emb in old.items() if emb],
        )
        conn.execute("DELETE FROM files WHERE id=?", (fid,))
        removed += 1
    if removed:
        bump(conn, FILES_GENERATION)
    return removed


class BatchWriter:
    """Writes payload batches with executemany; assigns chunk ids itself for FTS rowids."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def write(self, payloads: list[FilePayload]) -> tuple[int, int]:
        """Apply one batch inside the caller's transaction; returns (symbols, chunks) added."""
        conn = self.conn
        now = time.time()
        row = conn.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()
        next_chunk = int(row[0]) + 1
        symbol_rows: list[tuple[object, ...]] = []
        ref_rows: list[tuple[object, ...]] = []
        import_rows: list[tuple[int, str]] = []
        chunk_rows: list[tuple[object, ...]] = []
        chunk_fts: list[tuple[int, str]] = []
        chunk_sym_fts: list[tuple[int, str]] = []
        chunk_symonly_fts: list[tuple[int, str]] = []
        file_fts: list[tuple[int, str, str]] = []
        file_texts: list[tuple[int, bytes]] = []
        doc_rows: list[tuple[int, bytes]] = []
        vector_drops: list[tuple[int]] = []
        new_files = 0
        for p in payloads:
            if p.status == "unchanged":
                conn.execute(
                    "UPDATE files SET size=?, mtime_ns=? WHERE path=?", (p.size, p.mtime_ns, p.path)
                )
                continue
            if p.status == "skipped":
                delete_files(conn, [p.path])
                continue
            fid = file_id(conn, p.path)
            new_chunks = p.chunks
            state = "lexical" if p.status == "lexical" else "indexed"
            values = (
                p.hash,
                p.size,
                p.mtime_ns,
                p.language,
                int(p.is_test),
                int(p.has_errors),
                p.lines,
                now,
                state,
            )
            if fid is None:
                cur = conn.execute(
                    "INSERT INTO files(hash, size, mtime_ns, language, is_test, has_errors, lines,"
                    " indexed_at, state, path) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (*values, p.path),
                )
                fid = int(cur.lastrowid or 0)
                new_files += 1
                if p.text_blob is not None:
                    file_texts.append((fid, p.text_blob))
            else:
                _clear_non_chunk_rows(conn, fid)
                new_chunks, dropped = _reuse_chunks(conn, fid, p.chunks, p.text_blob)
                vector_drops.extend((vid,) for vid in dropped)
                conn.execute(
                    "UPDATE files SET hash=?, size=?, mtime_ns=?, language=?, is_test=?,"
                    " has_errors=?, lines=?, indexed_at=?, state=? WHERE id=?",
                    (*values, fid),
                )
            docs: list[tuple[str, str]] = []
            for name, qualified, kind, start, end, col, signature, docstring, parent in p.symbols:
                doc = None
                if signature or docstring:
                    doc = len(docs)
                    docs.append((signature, docstring))
                qualified = "" if qualified == name else qualified  # read back as the name
                key = name.lower()
                row = (fid, name, None if key == name else key, qualified, kind, start, end)
                symbol_rows.append((*row, col, doc, parent))
            if docs:
                doc_rows.append((fid, pack_docs(tuple(docs))))
            for name, kind, count in p.refs:
                ref_rows.append((fid, name, ref_kind_code(kind), count))
            for module in p.imports:
                import_rows.append((fid, module))
            for start, end, symbol, kind, text, vid, sym_tokens, body_tokens, ntok in new_chunks:
                stored = None if p.text_blob is not None else pack_text(text)
                row = (next_chunk, fid, start, end, symbol, kind, stored, sym_tokens, vid, ntok, 0)
                chunk_rows.append(row)
                # Every row goes into every table (empty or not): a delete reads the views
                # for every row id, and FTS5 counts the rows it removes.
                chunk_fts.append((next_chunk, any_tokens(body_tokens, sym_tokens)))
                chunk_sym_fts.append((next_chunk, sym_tokens))
                chunk_symonly_fts.append((next_chunk, symbol_only_tokens(sym_tokens, body_tokens)))
                next_chunk += 1
            file_fts.append((fid, fts_text(p.path), names_tokens(s[0] for s in p.symbols)))
        conn.executemany(
            "INSERT INTO symbols(file_id, name, name_key, qualified_name, kind, start_line,"
            " end_line, start_col, doc, parent) VALUES (?,?,?,?,?,?,?,?,?,?)",
            symbol_rows,
        )
        conn.executemany("INSERT OR REPLACE INTO symbol_docs(file_id, docs) VALUES (?,?)", doc_rows)
        conn.executemany("INSERT INTO refs(file_id, name, kind, count) VALUES (?,?,?,?)", ref_rows)
        conn.executemany("INSERT INTO imports(file_id, module) VALUES (?,?)", import_rows)
        conn.executemany(
            "INSERT INTO chunks(id, file_id, start_line, end_line, symbol, kind, text, sym_tokens,"
            " vec_id, ntok, embedded) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            chunk_rows,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO file_texts(file_id, text) VALUES (?,?)", file_texts
        )
        conn.executemany("INSERT INTO chunks_fts(rowid, any) VALUES (?,?)", chunk_fts)
        conn.executemany("INSERT INTO chunks_sym_fts(rowid, symbol) VALUES (?,?)", chunk_sym_fts)
        conn.executemany(
            "INSERT INTO chunks_symonly_fts(rowid, symbol) VALUES (?,?)", chunk_symonly_fts
        )
        conn.executemany("INSERT INTO files_fts(rowid, path, symbols) VALUES (?,?,?)", file_fts)
        conn.executemany("INSERT OR IGNORE INTO vector_deletes(vec_id) VALUES (?)", vector_drops)
        if new_files:
            bump(conn, FILES_GENERATION)
        return len(symbol_rows), len(chunk_rows)


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row counts shown by `doctor` and the index summary."""
    out: dict[str, int] = {}
    for name, sql in (
        ("files", "SELECT count(*) FROM files"),
        ("symbols", "SELECT count(*) FROM symbols"),
        ("references", "SELECT coalesce(sum(count), 0) FROM refs"),
        ("chunks", "SELECT count(*) FROM chunks"),
        ("vectors", "SELECT count(*) FROM chunks WHERE embedded=1"),
        ("unparsed", "SELECT count(*) FROM files WHERE state='lexical'"),
    ):
        out[name] = int(conn.execute(sql).fetchone()[0])
    return out
