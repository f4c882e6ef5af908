"""Repo map: rank files for a focus (file, symbol or free text), then render their outlines
within a token budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmgenie.context.models import Symbol
from llmgenie.index.graph_source import FileGraph
from llmgenie.retrieval.snapshot import FilesSnapshot

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine


def rank_files(
    engine: WorkspaceEngine,
    snap: FilesSnapshot,
    graph: FileGraph,
    focus_ids: dict[int, float],
    query_text: str,
) -> list[tuple[str, float]]:
    """(path, score) best first: PageRank from the focus (or search hits for free text)."""
    seeds = dict(focus_ids)
    scores: dict[int, float] = {}
    if query_text:
        result = engine.search(query_text, k=20)
        for rank, hit in enumerate(result.files, start=1):
            fid = snap.by_path.get(hit.path)
            if fid is not None:
                seeds[fid] = seeds.get(fid, 0.0) + 1.0 / rank
                scores[fid] = scores.get(fid, 0.0) + 1.0 / rank
    ranks = graph.personalized_rank(seeds) if graph.edge_count else {}
    top = max(ranks.values(), default=1.0) or 1.0
    for fid, r in ranks.items():
        scores[fid] = scores.get(fid, 0.0) + r / top
    for fid, w in focus_ids.items():
        scores[fid] = scores.get(fid, 0.0) + 2.0 * w
    if not scores:
        # No graph and no focus: prefer non-test source files, larger first.
        for fid, row in snap.by_id.items():
            scores[fid] = (0.5 if row.is_test else 1.0) * min(row.lines, 2000) / 2000
    for fid in scores:
        found = snap.by_id.get(fid)
        if found is not None and found.is_test:
            scores[fid] *= 0.5
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    return [(snap.by_id[fid].path, s) for fid, s in ordered if fid in snap.by_id]


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters per token for code)."""
    return (len(text) + 3) // 4


def render_outline(path: str, symbols: list[Symbol]) -> str:
    """A file's outline: its definitions' signatures, indented by nesting."""
    lines = [f"{path}:"]
    depth_of: dict[str, int] = {}
    for sym in symbols:
        if sym.kind in ("variable", "field", "key"):
            continue
        depth = depth_of.get(sym.parent, 0) + 1 if sym.parent else 1
        depth_of[sym.qualified_name] = depth
        sig = (sym.signature or f"{sym.kind} {sym.name}").splitlines()[0][:160]
        lines.append(f"{'  ' * depth}{sym.start_line}: {sig}")
    return "\n".join(lines)


def build_repo_map(
    engine: WorkspaceEngine,
    snap: FilesSnapshot,
    graph: FileGraph,
    focus_ids: dict[int, float],
    query_text: str,
    tokens: int,
) -> str:
    """Outlines of the highest-ranked files until `tokens` is spent."""
    budget = max(tokens, 16)
    parts: list[str] = []
    used = 0
    for path, _score in rank_files(engine, snap, graph, focus_ids, query_text)[:400]:
        outline = render_outline(path, engine.symbols(path))
        cost = estimate_tokens(outline) + 1
        if used + cost > budget:
            # Fall back to the bare path when the outline does not fit.
            cost = estimate_tokens(path) + 1
            if used + cost > budget:
                break
            outline = path
        parts.append(outline)
        used += cost
    return "\n".join(parts) + ("\n" if parts else "")
