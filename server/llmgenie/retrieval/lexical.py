"""Lexical signal: FTS5 bm25 over chunks (aggregated per file) and over file paths+names.

Long queries are trimmed to the most specific terms using the FTS vocabulary's document
frequencies: terms in no chunk are useless, terms in most chunks only cost time.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

from llmgenie.index.schema import CHUNK_WEIGHTS, FILE_WEIGHTS
from llmgenie.retrieval.query import QueryAnalysis, fts_match_expression

MAX_TERMS = 40
COMMON_FRACTION = 0.2


@dataclass(frozen=True, slots=True)
class LexicalHits:
    """chunk id -> score and file id -> score (higher is better), plus the terms used."""

    chunks: dict[int, float]
    files: dict[int, float]
    terms: list[str]


def ensure_vocab(conn: sqlite3.Connection) -> None:
    """The fts5vocab views over the FTS tables (cheap to create, kept in the temp schema)."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab"
        " USING fts5vocab(main, chunks_fts, row)"
    )


def select_terms(conn: sqlite3.Connection, analysis: QueryAnalysis, total_chunks: int) -> list[str]:
    """The query's terms that exist in the index, most specific (and most repeated) first."""
    terms = analysis.terms
    if not terms:
        return []
    ensure_vocab(conn)
    df: dict[str, int] = {}
    for start in range(0, len(terms), 500):
        part = terms[start : start + 500]
        marks = ",".join("?" * len(part))
        for term, doc in conn.execute(
            f"SELECT term, doc FROM temp.chunks_vocab WHERE term IN ({marks})", part
        ):
            df[str(term)] = int(doc)
    present = [t for t in terms if t in df]
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


def lexical_search(
    conn: sqlite3.Connection,
    analysis: QueryAnalysis,
    total_chunks: int,
    chunk_limit: int = 400,
    file_limit: int = 200,
) -> LexicalHits:
    """bm25 over chunks and over files (path + defined names); FTS5 bm25 is negative, so
    scores are negated to make higher better."""
    terms = select_terms(conn, analysis, total_chunks)
    expr = fts_match_expression(terms)
    if expr is None:
        return LexicalHits({}, {}, [])
    cw = ",".join(str(w) for w in CHUNK_WEIGHTS)
    fw = ",".join(str(w) for w in FILE_WEIGHTS)
    chunk_scores = {
        int(rowid): -float(score)
        for rowid, score in conn.execute(
            f"SELECT rowid, bm25(chunks_fts, {cw}) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
            " ORDER BY s LIMIT ?",
            (expr, chunk_limit),
        )
    }
    file_scores = {
        int(rowid): -float(score)
        for rowid, score in conn.execute(
            f"SELECT rowid, bm25(files_fts, {fw}) AS s FROM files_fts WHERE files_fts MATCH ?"
            " ORDER BY s LIMIT ?",
            (expr, file_limit),
        )
    }
    return LexicalHits(chunk_scores, file_scores, terms)
