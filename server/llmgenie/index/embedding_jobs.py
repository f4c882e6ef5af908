"""Background embedding: vectors for chunks that have none, priority files first.

Separate from indexing so lexical results never wait for a model. The catalog is the
source of truth (`chunks.embedded`); Chroma deletions are queued in `vector_deletes` in
the same transaction that drops the chunk, and flushed here before new vectors are
written, so a crash between the two stores only leaves work for the next run.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

from llmgenie.contracts.progress import CancelToken, ProgressCallback, ProgressEvent
from llmgenie.index import catalog
from llmgenie.index.embeddings.base import EmbeddingProvider
from llmgenie.index.schema import chunk_text
from llmgenie.index.vectors import VectorStore
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import EMBEDDED_CHUNKS

_log = get_logger(__name__)

BATCH = 64
MAX_EMBED_CHARS = 2000


@dataclass(frozen=True, slots=True)
class PendingChunk:
    chunk_id: int
    vec_id: int
    path: str
    symbol: str | None
    text: str


def embedding_text(path: str, symbol: str | None, text: str) -> str:
    """What the model sees: where the chunk lives, then its code (truncated)."""
    head = f"{path}: {symbol}\n" if symbol else f"{path}\n"
    return head + text[:MAX_EMBED_CHARS]


def model_signature(provider: EmbeddingProvider) -> str:
    return f"{provider.name}:{provider.dim}"


def prepare_store(
    conn: sqlite3.Connection, lock: threading.RLock, store: VectorStore, provider: EmbeddingProvider
) -> None:
    """Reset vectors if the model changed (or the catalog is new), then apply queued
    deletions."""
    signature = model_signature(provider)
    with lock:
        current = catalog.get_meta(conn, "embedding_model")
    # A catalog without a model (new, or rebuilt on a schema change) owns no vector yet: a
    # local store's vectors belong to an older catalog and are dropped too. A shared
    # server's collection is left alone then (other catalogs may use it).
    if current != signature and (current is not None or store.is_local):
        _log.info("vectors_reset", old_model=current, new_model=signature)
        store.reset()
        with lock, catalog.transaction(conn):
            conn.execute("UPDATE chunks SET embedded=0 WHERE embedded=1")
            conn.execute("DELETE FROM vector_deletes")
    if current != signature:
        with lock:
            catalog.set_meta(conn, "embedding_model", signature)
    flush_deletes(conn, lock, store)


def flush_deletes(conn: sqlite3.Connection, lock: threading.RLock, store: VectorStore) -> None:
    with lock:
        ids = [int(r[0]) for r in conn.execute("SELECT vec_id FROM vector_deletes")]
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        store.delete([str(i) for i in part])
        with lock, catalog.transaction(conn):
            conn.executemany("DELETE FROM vector_deletes WHERE vec_id=?", [(i,) for i in part])


def _next_batch(conn: sqlite3.Connection, priority_ids: list[int], size: int) -> list[PendingChunk]:
    sql = (
        "SELECT c.id, c.vec_id, f.path, c.symbol, c.text, t.text, c.start_line, c.end_line"
        " FROM chunks c JOIN files f ON f.id = c.file_id"
        " LEFT JOIN file_texts t ON t.file_id = c.file_id WHERE c.embedded=0"
    )
    rows: list[tuple[int, int, str, str | None, bytes | None, bytes | None, int, int]] = []
    if priority_ids:
        marks = ",".join("?" * len(priority_ids))
        rows = list(
            conn.execute(f"{sql} AND c.file_id IN ({marks}) LIMIT ?", (*priority_ids, size))
        )
    if not rows:
        # Source before tests: they answer more questions.
        rows = list(conn.execute(f"{sql} ORDER BY f.is_test, c.id LIMIT ?", (size,)))
    return [
        PendingChunk(int(a), int(b), str(c), d, chunk_text(own, whole, start, end))
        for a, b, c, d, own, whole, start, end in rows
    ]


def embed_pending_chunks(
    conn: sqlite3.Connection,
    lock: threading.RLock,
    store: VectorStore,
    provider: EmbeddingProvider,
    priority_paths: list[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Embed every chunk without a vector; returns how many were embedded."""
    prepare_store(conn, lock, store, provider)
    with lock:
        total = int(conn.execute("SELECT count(*) FROM chunks WHERE embedded=0").fetchone()[0])
        priority_ids = [
            fid for p in priority_paths if (fid := catalog.file_id(conn, p)) is not None
        ][:500]
    done = 0
    while True:
        if cancel is not None and cancel.cancelled:
            break
        with lock:
            batch = _next_batch(conn, priority_ids, BATCH)
        if not batch:
            break
        vectors = provider.embed([embedding_text(c.path, c.symbol, c.text) for c in batch])
        store.upsert([str(c.vec_id) for c in batch], vectors, [c.path for c in batch])
        with lock, catalog.transaction(conn):
            conn.executemany(
                "UPDATE chunks SET embedded=1 WHERE id=? AND vec_id=?",
                [(c.chunk_id, c.vec_id) for c in batch],
            )
            conn.executemany(
                "DELETE FROM vector_deletes WHERE vec_id=?", [(c.vec_id,) for c in batch]
            )
            # A chunk replaced while we embedded it leaves an orphan vector: queue it.
            marks = ",".join("?" * len(batch))
            alive = {
                int(r[0])
                for r in conn.execute(
                    f"SELECT vec_id FROM chunks WHERE vec_id IN ({marks})",
                    [c.vec_id for c in batch],
                )
            }
            conn.executemany(
                "INSERT OR IGNORE INTO vector_deletes(vec_id) VALUES (?)",
                [(c.vec_id,) for c in batch if c.vec_id not in alive],
            )
        done += len(batch)
        EMBEDDED_CHUNKS.inc(len(batch))
        if progress is not None:
            progress(ProgressEvent("embed", done, max(total, done), batch[-1].path))
    return done
