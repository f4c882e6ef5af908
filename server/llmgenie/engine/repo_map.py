"""Repo map for a focus (file, symbol or free text): graph ranking + the context renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmgenie.context.graph import CodeGraph
from llmgenie.context.repomap import render_repo_map
from llmgenie.contracts.symbols import Symbol
from llmgenie.retrieval.query import MAX_QUERY_CHARS, analyze_query

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

MAX_FILES = 300


def build_repo_map(
    engine: WorkspaceEngine,
    graph: CodeGraph,
    focus_paths: list[str],
    query_text: str,
    tokens: int,
) -> str:
    """Rank files, then render outlines within `tokens`.

    With a focus file: personalised PageRank from it. With free text: the files a hybrid
    search finds come first (in its order), then PageRank seeded from them and from the
    code identifiers the text names, so their neighbourhood fills the remaining budget.
    """
    mentioned: list[str] = []
    seeds = list(focus_paths)
    ranked: list[tuple[str, float]] = []
    if query_text:
        result = engine.search(query_text[:MAX_QUERY_CHARS], k=10)  # a pasted log: its start
        ranked = [(hit.path, 1.0 + hit.score) for hit in result.files]
        seeds.extend(hit.path for hit in result.files[:5])
        mentioned = [
            w for w, weight in analyze_query(query_text).identifiers.items() if weight >= 2
        ]
    ranking = graph.rank(focus_files=seeds, mentioned=mentioned, top_symbols=2000)
    seen = {path for path, _ in ranked}
    # Free text: files keep the search's order (the graph's symbol flow would favour
    # central files over the ones the text is about); the graph only fills the rest.
    symbols = None if seen else ranking.symbols
    ranked.extend((p, s) for p, s in ranking.files[:MAX_FILES] if p not in seen)
    symbols_by_file: dict[str, list[Symbol]] = {path: engine.symbols(path) for path, _ in ranked}
    return render_repo_map(
        ranked,
        symbols_by_file,
        tokens,
        focus=focus_paths or None,
        ranked_symbols=symbols,
        mentioned=mentioned,
    )
