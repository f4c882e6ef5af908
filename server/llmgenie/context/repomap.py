"""Token-budgeted repository outline for prompts (Aider-style repo map).

Every (file, symbol) pair gets an importance score: the file's graph rank times a weight
for the symbol's kind and depth, plus the symbol's own graph score when one is given. The
map renders the top-k entries grouped by file (files in order of their best entry,
symbols in line order, each with its enclosing definitions for context), and k is the
largest count whose rendering fits the budget, found by binary search.

Public API:
    render_repo_map(ranked_files: Sequence[tuple[str, float]] | Sequence[str],
                    symbols_by_file: Mapping[str, Sequence[Symbol]],
                    token_budget: int,
                    focus: str | Iterable[str] | None = None,
                    ranked_symbols: Sequence[tuple[str, str, float]] | None = None,
                    mentioned: Iterable[str] = ()) -> str
    estimate_tokens(text: str) -> int        # chars / 4, the cheap estimate used here
`ranked_files`/`ranked_symbols` come from CodeGraph.rank(); focus files come first (marked
"(focus)"), since the reader is working there; symbols named in `mentioned` (identifiers
from the query) are shown before anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from llmgenie.contracts.symbols import Symbol

_KIND_WEIGHT = {
    "class": 1.0, "interface": 1.0, "struct": 1.0, "trait": 1.0, "enum": 0.8, "record": 0.9,
    "type": 0.7, "function": 1.0, "module": 0.8, "namespace": 0.6, "impl": 0.7,
    "resource": 1.0, "stage": 0.8, "section": 0.8, "table": 0.6, "block": 0.6, "key": 0.4,
    "method": 0.6, "macro": 0.5, "typedef": 0.5, "prototype": 0.5, "union": 0.6,
    "constant": 0.3, "variable": 0.25, "field": 0.15,
}  # fmt: skip
FILE_ONLY_WEIGHT = 0.05
MAX_LINE_CHARS = 160


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (about four characters per token for code)."""
    return (len(text) + 3) // 4


def _file_scores(ranked_files: Sequence[tuple[str, float]] | Sequence[str]) -> dict[str, float]:
    scores: dict[str, float] = {}
    total = len(ranked_files)
    for position, item in enumerate(ranked_files):
        if isinstance(item, str):
            scores.setdefault(item, (total - position) / max(total, 1))
        else:
            path, score = item
            scores.setdefault(str(path), float(score))
    return scores


def _focus_list(focus: str | Iterable[str] | None) -> list[str]:
    if focus is None:
        return []
    if isinstance(focus, str):
        return [focus]
    return list(focus)


def _entries(
    file_scores: dict[str, float],
    symbols_by_file: Mapping[str, Sequence[Symbol]],
    focus: list[str],
    ranked_symbols: Sequence[tuple[str, str, float]] | None,
    mentioned: set[str],
    limit: int,
) -> list[tuple[str, Symbol | None]]:
    """(path, symbol) pairs, most important first.

    A symbol's score is mostly the graph flow to it (how much the ranked files lean on it),
    plus a share of its file's rank so unreferenced symbols of important files still show,
    times a weight for its kind. Focus files and mentioned identifiers jump the queue.
    """
    top_file = max(file_scores.values(), default=0.0) or 1.0
    flow: dict[tuple[str, str], float] = {}
    if ranked_symbols:
        top_flow = max(score for _, _, score in ranked_symbols) or 1.0
        for path, name, score in ranked_symbols:
            key = (path, name)
            flow[key] = flow.get(key, 0.0) + score / top_flow
    # Only files that can make it into the map are worth scoring symbol by symbol.
    candidates = list(dict.fromkeys([*focus, *list(file_scores)[:limit]]))
    scored: list[tuple[float, int, str, Symbol | None]] = []
    order = 0
    for path in candidates:
        file_score = file_scores.get(path, 0.0) / top_file
        in_focus = path in focus
        scored.append(
            ((3.0 if in_focus else 0.0) + FILE_ONLY_WEIGHT * file_score, order, path, None)
        )
        order += 1
        for symbol in symbols_by_file.get(path, ()):
            weight = _KIND_WEIGHT.get(symbol.kind, 0.3)
            if symbol.parent is not None:
                weight *= 0.6
            if symbol.name.startswith("_"):
                weight *= 0.3
            score = weight * (flow.get((path, symbol.name), 0.0) + 0.1 * file_score)
            if symbol.name in mentioned:
                score += 2.0
            elif in_focus and symbol.parent is None:
                score += 0.1 * weight
            scored.append((score, order, path, symbol))
            order += 1
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(path, symbol) for _, _, path, symbol in scored[:limit]]


def _line(symbol: Symbol, depth: int) -> str:
    text = symbol.signature or f"{symbol.kind} {symbol.name}"
    if len(text) > MAX_LINE_CHARS:
        text = text[: MAX_LINE_CHARS - 1] + "…"
    return "  " * (depth + 1) + text


def _render(
    entries: list[tuple[str, Symbol | None]],
    symbols_by_file: Mapping[str, Sequence[Symbol]],
    focus: list[str],
) -> str:
    chosen: dict[str, set[str]] = {}
    for path, symbol in entries:
        names = chosen.setdefault(path, set())
        if symbol is not None:
            names.add(symbol.qualified_name)
    blocks: list[str] = []
    for path, names in chosen.items():
        header = f"{path} (focus)" if path in focus else path
        lines = [header + ":"]
        symbols = symbols_by_file.get(path, ())
        by_name = {s.qualified_name: s for s in symbols}
        shown = set(names)
        for name in names:  # enclosing definitions give the reader context
            parent = by_name[name].parent if name in by_name else None
            while parent is not None and parent in by_name and parent not in shown:
                shown.add(parent)
                parent = by_name[parent].parent
        for symbol in symbols:
            if symbol.qualified_name in shown:
                shown.discard(symbol.qualified_name)
                depth = 0
                parent = symbol.parent
                while parent is not None and parent in by_name and depth < 8:
                    depth += 1
                    parent = by_name[parent].parent
                lines.append(_line(symbol, depth))
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + ("\n" if blocks else "")


def render_repo_map(
    ranked_files: Sequence[tuple[str, float]] | Sequence[str],
    symbols_by_file: Mapping[str, Sequence[Symbol]],
    token_budget: int,
    focus: str | Iterable[str] | None = None,
    ranked_symbols: Sequence[tuple[str, str, float]] | None = None,
    mentioned: Iterable[str] = (),
) -> str:
    """The largest importance-ordered outline that fits `token_budget` (see module doc)."""
    if token_budget <= 0:
        return ""
    focus_paths = _focus_list(focus)
    # Each rendered entry costs at least a few tokens: no need to consider more than this.
    limit = max(1, token_budget // 2)
    entries = _entries(
        _file_scores(ranked_files),
        symbols_by_file,
        focus_paths,
        ranked_symbols,
        set(mentioned),
        limit,
    )
    low, high = 0, len(entries)
    best = ""
    while low < high:
        middle = (low + high + 1) // 2
        text = _render(entries[:middle], symbols_by_file, focus_paths)
        if estimate_tokens(text) <= token_budget:
            low, best = middle, text
        else:
            high = middle - 1
    return best
