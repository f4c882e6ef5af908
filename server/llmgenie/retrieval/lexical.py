"""Lexical signal: BM25F over the FTS5 index, scored in numpy.

FTS5's own bm25() costs (matching rows × query terms), which for a long issue text on a
large repository is hundreds of milliseconds. Instead each (term, column) posting list is
fetched as one `group_concat(rowid)` string, parsed by numpy, and the BM25F sum (idf ×
column weight × length norm; the index is detail=none, so term frequency is presence)
is accumulated in a dense array indexed by chunk id. Per-file scores aggregate a file's
best chunks. Long queries are trimmed to their most specific terms using the FTS
vocabulary's document frequencies.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from llmgenie.index.schema import CHUNK_WEIGHTS, FILE_WEIGHTS
from llmgenie.retrieval.query import QueryAnalysis, quote_term

MAX_TERMS = 40
MAX_FILES = 500
COMMON_FRACTION = 0.25
# A file's lexical score: its best chunks, weighted (best, second, third).
AGGREGATE_WEIGHTS = (1.0, 0.5, 0.25)
# Query terms that are whole code identifiers (snake/camel, with digits) are more telling.
IDENTIFIER_BOOST = 1.0
K1 = 1.2
# Length normalisation: 0.5 (not BM25's usual 0.75), so a long function that holds the
# issue's words is not pushed below short ones (chosen on the Lite train half).
B = 0.5
CHUNK_COLUMNS = ("symbol", "body")
FILE_COLUMNS = ("path", "symbols")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ChunkStats:
    """Per-chunk file id and body length, indexed by chunk id (cached per generation)."""

    chunk_file: IntArray
    chunk_len: FloatArray
    avg_len: float
    count: int
    unparsed_files: int = 0
    """Files only the first index phase has seen (no chunks yet; see index/indexer.py)."""

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> ChunkStats:
        unparsed = int(
            conn.execute("SELECT count(*) FROM files WHERE state='lexical'").fetchone()[0]
        )
        ids_s, files_s, lens_s, n = conn.execute(
            "SELECT group_concat(id), group_concat(file_id), group_concat(ntok), count(*)"
            " FROM chunks"
        ).fetchone()
        if not n:
            return cls(np.zeros(1, np.int64) - 1, np.ones(1), 1.0, 0, unparsed)
        ids = _ints(ids_s)
        size = int(ids.max()) + 1
        chunk_file = np.full(size, -1, dtype=np.int64)
        chunk_file[ids] = _ints(files_s)
        chunk_len = np.ones(size, dtype=np.float64)
        lens = _ints(lens_s).astype(np.float64)
        chunk_len[ids] = np.maximum(lens, 1.0)
        return cls(chunk_file, chunk_len, float(lens.mean()) or 1.0, int(n), unparsed)


@dataclass(frozen=True, slots=True)
class LexicalHits:
    """Top chunk scores, per-file aggregated chunk scores, file name/path scores, terms."""

    chunks: dict[int, float]
    files: dict[int, float]
    names: dict[int, float]
    terms: list[str]
    df: dict[str, int] = field(default_factory=dict)
    """Chunk document frequency of every query term found in the index."""


def _ints(text: str | None) -> IntArray:
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def ensure_vocab(conn: sqlite3.Connection, table: str = "chunks_fts") -> str:
    """The fts5vocab view over an FTS table (temp schema, per connection); its name."""
    view = f"{table.removesuffix('_fts')}_vocab"
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{view} USING fts5vocab(main, {table}, row)"
    )
    return view


def term_frequencies(
    conn: sqlite3.Connection, terms: list[str], table: str = "chunks_fts"
) -> dict[str, int]:
    """term -> number of rows (chunks, or files) containing it; absent terms left out."""
    view = ensure_vocab(conn, table)
    df: dict[str, int] = {}
    for start in range(0, len(terms), 500):
        part = terms[start : start + 500]
        marks = ",".join("?" * len(part))
        for term, doc in conn.execute(
            f"SELECT term, doc FROM temp.{view} WHERE term IN ({marks})", part
        ):
            df[str(term)] = int(doc)
    return df


def _early_name_scores(
    conn: sqlite3.Connection, analysis: QueryAnalysis, known: set[str], n_files: int
) -> dict[int, float]:
    """Path/name BM25 for terms no chunk has yet, while the first index phase's files await
    their parse: those files have no chunks, only paths and outline names."""
    rest = [t for t in analysis.terms if t not in known]
    file_df = term_frequencies(conn, rest, "files_fts") if rest else {}
    n = max(n_files, 1)
    chosen = sorted(file_df, key=lambda t: file_df[t])[:MAX_TERMS]
    scores: dict[int, float] = {}
    for term in chosen:
        idf = _idf(file_df[term], n)
        qweight = 1.0 + 0.5 * math.log(analysis.term_counts.get(term, 1))
        for column, weight in zip(FILE_COLUMNS, FILE_WEIGHTS, strict=True):
            for fid in _postings(conn, "files_fts", column, term).tolist():
                scores[fid] = scores.get(fid, 0.0) + idf * qweight * weight
    return scores


def select_terms(analysis: QueryAnalysis, df: dict[str, int], total_chunks: int) -> list[str]:
    """The query's indexed terms, most specific (and most repeated) first, capped."""
    present = [t for t in analysis.terms if t in df]
    if not present:
        return []
    limit = max(1, int(total_chunks * COMMON_FRACTION))
    specific = [t for t in present if df[t] <= limit] or present
    n = max(total_chunks, 1)

    def importance(term: str) -> float:
        idf = math.log(1 + n / (1 + df[term]))
        return idf * (1.0 + 0.5 * math.log(analysis.term_counts.get(term, 1)))

    specific.sort(key=importance, reverse=True)
    return specific[:MAX_TERMS]


def _postings(conn: sqlite3.Connection, table: str, column: str, term: str) -> IntArray:
    row = conn.execute(
        f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ?",
        (f"{column} : {quote_term(term)}",),
    ).fetchone()
    return _ints(row[0] if row else None)


def _rowids(conn: sqlite3.Connection, table: str, term: str) -> IntArray:
    row = conn.execute(
        f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ?", (quote_term(term),)
    ).fetchone()
    return _ints(row[0] if row else None)


def chunk_postings(conn: sqlite3.Connection, term: str) -> tuple[IntArray, IntArray]:
    """(chunks whose symbol tokens hold `term`, chunks whose body holds it); the body's are
    the "any" table's rows less those that have it only as a symbol (index/schema.py)."""
    symbol = _rowids(conn, "chunks_sym_fts", term)
    anywhere = _rowids(conn, "chunks_fts", term)
    if symbol.size:
        only = _rowids(conn, "chunks_symonly_fts", term)
        if only.size:
            anywhere = np.setdiff1d(anywhere, only, assume_unique=True)
    return symbol, anywhere


def _idf(df: int, n: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def lexical_search(
    conn: sqlite3.Connection,
    analysis: QueryAnalysis,
    stats: ChunkStats,
    n_files: int,
    chunk_limit: int = 400,
) -> LexicalHits:
    """BM25F scores for chunks (top `chunk_limit`), files (best chunks) and file names."""
    df = term_frequencies(conn, analysis.terms)
    terms = select_terms(analysis, df, stats.count)
    early = _early_name_scores(conn, analysis, set(df), n_files) if stats.unparsed_files else {}
    if not terms:
        return LexicalHits({}, {}, early, [], df)
    n = max(stats.count, 1)
    identifier_terms = {
        w.lower().strip("_") for w, weight in analysis.identifiers.items() if weight >= 2.0
    }
    scores = np.zeros(stats.chunk_file.shape[0], dtype=np.float64)
    body_norm = (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * stats.chunk_len / stats.avg_len))
    name_scores: dict[int, float] = early
    for term in terms:
        idf = _idf(df[term], n)
        qweight = 1.0 + 0.5 * math.log(analysis.term_counts.get(term, 1))
        if term in identifier_terms:
            qweight *= IDENTIFIER_BOOST
        postings = chunk_postings(conn, term)
        for column, weight, ids in zip(CHUNK_COLUMNS, CHUNK_WEIGHTS, postings, strict=True):
            if weight <= 0:
                continue
            ids = ids[ids < scores.shape[0]]
            if not ids.size:
                continue
            if column == "body":
                scores[ids] += idf * qweight * weight * body_norm[ids]
            else:
                scores[ids] += idf * qweight * weight
        for column, weight in zip(FILE_COLUMNS, FILE_WEIGHTS, strict=True):
            for fid in _postings(conn, "files_fts", column, term).tolist():
                name_scores[fid] = name_scores.get(fid, 0.0) + idf * qweight * weight
    hit = np.nonzero(scores)[0]
    if hit.size > chunk_limit:
        top = hit[np.argpartition(-scores[hit], chunk_limit - 1)[:chunk_limit]]
    else:
        top = hit
    chunks = {int(i): float(scores[i]) for i in top}
    return LexicalHits(
        chunks, aggregate_files(scores, hit, stats.chunk_file), name_scores, terms, df
    )


def aggregate_files(scores: FloatArray, hit: IntArray, chunk_file: IntArray) -> dict[int, float]:
    """Per-file score from its best chunks: best + 0.5·second + 0.25·third."""
    if not hit.size:
        return {}
    files = chunk_file[hit]
    valid = files >= 0
    hit, files = hit[valid], files[valid]
    # Sort by file, then by descending score; position within each file's run = its rank.
    order = np.lexsort((-scores[hit], files))
    files_sorted = files[order]
    scores_sorted = scores[hit][order]
    starts = np.r_[0, np.nonzero(np.diff(files_sorted))[0] + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, files_sorted.size]))
    position = np.arange(files_sorted.size) - run_start
    keep = position < len(AGGREGATE_WEIGHTS)
    weights = np.array(AGGREGATE_WEIGHTS)[position[keep]]
    unique_files = files_sorted[starts]
    totals = np.zeros(unique_files.size)
    np.add.at(
        totals, np.searchsorted(unique_files, files_sorted[keep]), scores_sorted[keep] * weights
    )
    if totals.size > MAX_FILES:
        best = np.argpartition(-totals, MAX_FILES - 1)[:MAX_FILES]
        unique_files, totals = unique_files[best], totals[best]
    return {int(f): float(s) for f, s in zip(unique_files.tolist(), totals.tolist(), strict=True)}
