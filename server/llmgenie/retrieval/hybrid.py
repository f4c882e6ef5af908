"""Hybrid search: lexical + symbol + path + dense + graph signals fused into ranked files
and chunks, each with the reasons for its score.

Files and chunks are ranked separately. Files fuse file-level signals (best chunks per
file, path/name bm25, definitions of query identifiers, path mentions, dense, PageRank)
plus file stems the query uses as words; chunks fuse chunk-level signals and inherit a
share of their file's rank, so the chunk list favours the files most likely to matter.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from llmgenie.contracts.search import ChunkHit, FileHit, SearchResult
from llmgenie.observability.metrics import SEARCH_LATENCY
from llmgenie.retrieval.fusion import Fused, Signal, fuse
from llmgenie.retrieval.lexical import ChunkStats, lexical_search
from llmgenie.retrieval.mentions import path_mentions, stem_mentions
from llmgenie.retrieval.query import analyze_query
from llmgenie.retrieval.snapshot import FilesSnapshot
from llmgenie.retrieval.symbol_match import symbol_matches

DenseSearch = Callable[[str, int], list[tuple[int, float]]]
"""(query text, n) -> [(chunk id, cosine similarity)] best first."""
GraphRank = Callable[[list[str], list[str]], dict[int, float]]
"""(focus paths, mentioned identifiers) -> file id -> personalised PageRank score."""

TEST_PENALTY = 0.3
# Files without code (plain text, changelogs, templates) and prose docs rarely answer a
# question about code; they still rank when nothing else matches.
PLAIN_TEXT_PENALTY = 0.5
DOCS_PENALTY = 0.7
_DOC_LANGUAGES = frozenset({"markdown", "rst"})
# Signal weights for file ranking (RRF), chosen on the train half of SWE-bench Lite
# issue-to-file localisation and checked on the held-out half (docs/benchmarks.md §1).
# Definitions of identifiers the issue names count less than its words in the code
# (an issue names the API it calls, the fix is often elsewhere); path and defined-name
# words count more. The graph only helps when there is a focus file (the editor's
# context); for free text it mostly promotes hub files, so it is weighted by
# `graph_free_text`.
FILE_WEIGHTS = {
    "path": 3.0,
    "symbols": 1.0,
    "lexical": 3.0,
    "names": 1.2,
    "dense": 1.5,
    "graph": 0.5,
    "graph_free_text": 0.0,
    "focus": 1.0,
}
# File-stem evidence is added on the fused scale, in proportion to its strength (0..1),
# not by rank: a rare word of the issue that is a file's stem is near-decisive, a common one
# is not, and rank fusion would give both the same first-rank share.
STEM_WEIGHT = 0.6
# RRF's k: small values let a signal's first ranks stand out (evidence is sparse).
FILE_RRF_K = 10.0
CHUNK_WEIGHTS = {"lexical": 1.0, "definition": 1.2, "dense": 1.0, "file": 1.5}


@dataclass(slots=True)
class RetrievalInputs:
    """What a search needs from the engine (a read connection and cached views)."""

    conn: sqlite3.Connection
    snapshot: FilesSnapshot
    stats: ChunkStats
    dense: DenseSearch | None = None
    graph: GraphRank | None = None
    degraded: list[str] = field(default_factory=list)


def _best_per_file(chunk_scores: dict[int, float], chunk_file: dict[int, int]) -> dict[int, float]:
    """Per-file score from its best chunk (used for dense hits)."""
    out: dict[int, float] = {}
    for cid, score in chunk_scores.items():
        fid = chunk_file.get(cid)
        if fid is not None and score > out.get(fid, float("-inf")):
            out[fid] = score
    return out


def _chunk_rows(
    conn: sqlite3.Connection, ids: list[int]
) -> dict[int, tuple[int, int, int, str | None]]:
    rows: dict[int, tuple[int, int, int, str | None]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for cid, fid, s, e, sym in conn.execute(
            f"SELECT id, file_id, start_line, end_line, symbol FROM chunks WHERE id IN ({marks})",
            part,
        ):
            rows[int(cid)] = (int(fid), int(s), int(e), sym)
    return rows


def hybrid_search(
    inputs: RetrievalInputs, query: str, k: int = 10, focus_file_id: int | None = None
) -> SearchResult:
    """Rank files and chunks for `query` (any text, e.g. a whole issue report)."""
    started = time.perf_counter()
    conn = inputs.conn
    snap = inputs.snapshot
    stats = inputs.stats
    analysis = analyze_query(query)

    lex = lexical_search(conn, analysis, stats, len(snap))
    syms = symbol_matches(conn, analysis, len(snap))
    mentions = path_mentions(snap, analysis)
    stems = stem_mentions(snap, analysis, lex.df, stats.count)
    dense_hits = inputs.dense(query, 100) if inputs.dense is not None else []

    def file_of(cid: int) -> int:
        return int(stats.chunk_file[cid]) if 0 <= cid < stats.chunk_file.shape[0] else -1

    # Chunks containing matched definitions (top definitions only, to stay fast).
    def_chunks: dict[int, float] = {}
    def_detail: dict[int, str] = {}
    for d in syms.definitions[:40]:
        row = conn.execute(
            "SELECT id FROM chunks WHERE file_id=? AND start_line<=? AND end_line>=?"
            " ORDER BY (end_line-start_line) LIMIT 1",
            (d.file_id, d.start_line, d.start_line),
        ).fetchone()
        if row is not None and int(row[0]) not in def_chunks:
            def_chunks[int(row[0])] = d.score
            def_detail[int(row[0])] = f"defines {d.qualified_name}"

    dense_scores = {cid: sim for cid, sim in dense_hits if file_of(cid) >= 0}
    chunk_file = {cid: file_of(cid) for cid in {*lex.chunks, *def_chunks, *dense_scores}}
    chunk_file = {cid: fid for cid, fid in chunk_file.items() if fid in snap.by_id}

    # ---- files
    file_signals: list[Signal[int]] = [
        Signal.from_scores("lexical", FILE_WEIGHTS["lexical"], lex.files),
        Signal.from_scores("names", FILE_WEIGHTS["names"], lex.names),
        Signal.from_scores(
            "symbols",
            FILE_WEIGHTS["symbols"],
            syms.files,
            {fid: "defines " + ", ".join(names) for fid, names in syms.details.items()},
        ),
        Signal.from_scores(
            "path",
            FILE_WEIGHTS["path"],
            {fid: s for fid, (s, _) in mentions.items()},
            {fid: f"mentions {m}" for fid, (_, m) in mentions.items()},
        ),
    ]
    dense_files = _best_per_file(dense_scores, chunk_file)
    if dense_files:
        file_signals.append(Signal.from_scores("dense", FILE_WEIGHTS["dense"], dense_files))
    graph_weight = FILE_WEIGHTS["graph" if focus_file_id is not None else "graph_free_text"]
    if inputs.graph is not None and graph_weight > 0:
        focus_paths = [snap.by_id[fid].path for fid in mentions if fid in snap.by_id]
        if focus_file_id is not None and focus_file_id in snap.by_id:
            focus_paths.append(snap.by_id[focus_file_id].path)
        mentioned = list(dict.fromkeys(d.name for d in syms.definitions[:20]))
        if focus_paths or mentioned:
            ranks = inputs.graph(focus_paths, mentioned)
            file_signals.append(Signal.from_scores("graph", graph_weight, ranks, limit=200))
    if focus_file_id is not None:
        file_signals.append(
            Signal("focus", FILE_WEIGHTS["focus"], [(focus_file_id, 1.0, "focus file")])
        )
    fused_files = fuse(file_signals, k=FILE_RRF_K)
    for rank, (fid, (strength, detail)) in enumerate(
        sorted(stems.items(), key=lambda kv: -kv[1][0]), start=1
    ):
        item = fused_files.setdefault(fid, Fused())
        item.score += STEM_WEIGHT * strength
        item.reasons.append(("stem", rank, STEM_WEIGHT * strength, detail, strength))
    for fid, item in fused_files.items():
        row = snap.by_id.get(fid)
        if row is None:
            continue
        if row.is_test and not analysis.mentions_tests:
            item.score *= TEST_PENALTY
            item.reasons.append(
                ("test_penalty", 0, TEST_PENALTY, "test file (query is not about tests)", 0.0)
            )
        if row.language is None:
            item.score *= PLAIN_TEXT_PENALTY
            item.reasons.append(("plain_text_penalty", 0, PLAIN_TEXT_PENALTY, "not code", 0.0))
        elif row.language in _DOC_LANGUAGES:
            item.score *= DOCS_PENALTY
            item.reasons.append(("docs_penalty", 0, DOCS_PENALTY, "documentation", 0.0))
    ranked_files = sorted(
        (fid for fid in fused_files if fid in snap.by_id), key=lambda f: -fused_files[f].score
    )
    file_rank = {fid: i for i, fid in enumerate(ranked_files, start=1)}

    # ---- chunks
    chunk_signals: list[Signal[int]] = [
        Signal.from_scores(
            "lexical",
            CHUNK_WEIGHTS["lexical"],
            {c: s for c, s in lex.chunks.items() if c in chunk_file},
        ),
        Signal.from_scores("definition", CHUNK_WEIGHTS["definition"], def_chunks, def_detail),
    ]
    if dense_scores:
        chunk_signals.append(Signal.from_scores("dense", CHUNK_WEIGHTS["dense"], dense_scores))
    by_file_rank = sorted(
        (cid for cid in chunk_file if chunk_file[cid] in file_rank),
        key=lambda c: file_rank[chunk_file[c]],
    )
    chunk_signals.append(
        Signal(
            "file",
            CHUNK_WEIGHTS["file"],
            [(cid, -float(file_rank[chunk_file[cid]]), "file rank") for cid in by_file_rank],
        )
    )
    fused_chunks = fuse(chunk_signals)
    ranked_chunks = sorted(fused_chunks, key=lambda c: -fused_chunks[c].score)[:k]
    rows = _chunk_rows(conn, ranked_chunks)

    result = SearchResult(
        query=query,
        files=[_file_hit(snap, fid, fused_files[fid]) for fid in ranked_files[:k]],
        chunks=[
            _chunk_hit(snap, rows[cid], fused_chunks[cid])
            for cid in ranked_chunks
            # A concurrent index commit can add rows the files snapshot predates: skip them.
            if cid in rows and rows[cid][0] in snap.by_id
        ],
        degraded=list(inputs.degraded),
    )
    SEARCH_LATENCY.observe(time.perf_counter() - started)
    return result


def _file_hit(snap: FilesSnapshot, fid: int, fused: Fused[int]) -> FileHit:
    return FileHit(
        path=snap.by_id[fid].path, score=round(fused.score, 6), reasons=fused.reason_models()
    )


def _chunk_hit(
    snap: FilesSnapshot, row: tuple[int, int, int, str | None], fused: Fused[int]
) -> ChunkHit:
    fid, start, end, symbol = row
    return ChunkHit(
        path=snap.by_id[fid].path,
        start_line=start,
        end_line=end,
        symbol=symbol,
        score=round(fused.score, 6),
        reasons=fused.reason_models(),
    )
