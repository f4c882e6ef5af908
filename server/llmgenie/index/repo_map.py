"""Repo map for a focus (file, symbol or free text): graph ranking + the context renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmgenie.context.graph import CodeGraph
from llmgenie.context.models import Symbol
from llmgenie.context.repomap import render_repo_map

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
    """Rank files by personalised PageRank (from focus files, or from the files and
    identifiers a free-text focus finds), then render outlines within `tokens`."""
    mentioned: list[str] = []
    seeds = list(focus_paths)
    if query_text:
        result = engine.search(query_text, k=10)
        seeds.extend(hit.path for hit in result.files[:5])
        mentioned = [w for w in query_text.replace(".", " ").split() if w.isidentifier()]
    ranking = graph.rank(focus_files=seeds, mentioned=mentioned, top_symbols=2000)
    ranked = ranking.files[:MAX_FILES] if ranking.files else []
    for path in reversed(seeds):
        if path not in {p for p, _ in ranked[:1]}:
            ranked.insert(0, (path, ranked[0][1] * 2 if ranked else 1.0))
    symbols_by_file: dict[str, list[Symbol]] = {}
    for path, _ in ranked:
        if path not in symbols_by_file:
            symbols_by_file[path] = engine.symbols(path)
    return render_repo_map(
        ranked,
        symbols_by_file,
        tokens,
        focus=focus_paths or None,
        ranked_symbols=ranking.symbols,
        mentioned=mentioned,
    )
