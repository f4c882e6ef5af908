"""Cut a file into retrievable chunks at symbol boundaries, with a line cap.

Invariants (property-tested): chunks are sorted and never overlap; each has at most
`max_lines` lines and at least one non-blank line; every non-blank line of the file is in
exactly one chunk; a chunk's text is exactly its lines of the file. Blank lines join a
neighbouring chunk when the cap allows, and are left out only when it does not.

The idea: a symbol that fits the cap is one chunk. A bigger one is split into its child
symbols (a class into its methods, a markdown section into its subsections); the lines of
the symbol between its children (class header, attributes) become chunks owned by the
symbol; a symbol with no children is cut into even windows. Code between top-level symbols
(imports, module constants) becomes "glue" chunks with symbol None.

Public API:
    Region(start_line, end_line, qualified_name, children)  # 1-based inclusive
    build_regions(ranges: Iterable[tuple[int, int, str]]) -> list[Region]
    chunk_lines(path, lines, regions, max_lines, kind="code", *, pack=False,
                qualifier=".") -> list[Chunk]
    window_chunks(path, lines, max_lines, kind="text") -> list[Chunk]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from llmgenie.context.models import Chunk


@dataclass(slots=True)
class Region:
    """A symbol's line span and the chunkable symbols nested in it."""

    start_line: int
    end_line: int
    qualified_name: str | None
    children: list[Region] = field(default_factory=list)


def build_regions(ranges: Iterable[tuple[int, int, str]]) -> list[Region]:
    """Nest (start, end, qualified_name) spans into a forest; overlapping spans are clipped."""
    ordered = sorted(ranges, key=lambda item: (item[0], -item[1]))
    roots: list[Region] = []
    stack: list[Region] = []
    for start, end, name in ordered:
        while stack and start > stack[-1].end_line:
            stack.pop()
        if stack:
            parent = stack[-1]
            end = min(end, parent.end_line)
            siblings = parent.children
        else:
            siblings = roots
        if siblings and start <= siblings[-1].end_line:
            continue  # overlaps a sibling (malformed tree): keep the first one
        region = Region(start, end, name)
        siblings.append(region)
        stack.append(region)
    return roots


def _windows(start: int, end: int, max_lines: int) -> list[tuple[int, int]]:
    """Split [start, end] into near-equal windows of at most max_lines lines."""
    total = end - start + 1
    count = -(-total // max_lines)
    size = -(-total // count)
    return [(s, min(s + size - 1, end)) for s in range(start, end + 1, size)]


def _spans(
    start: int, end: int, children: list[Region], owner: str | None, max_lines: int
) -> list[tuple[int, int, str | None, bool]]:
    """(start, end, symbol, is_glue) spans covering [start, end]."""
    spans: list[tuple[int, int, str | None, bool]] = []
    cursor = start
    for child in children:
        if child.start_line > cursor:
            for s, e in _windows(cursor, child.start_line - 1, max_lines):
                spans.append((s, e, owner, True))
        spans.extend(_region_spans(child, max_lines))
        cursor = child.end_line + 1
    if cursor <= end:
        for s, e in _windows(cursor, end, max_lines):
            spans.append((s, e, owner, True))
    return spans


def _region_spans(region: Region, max_lines: int) -> list[tuple[int, int, str | None, bool]]:
    size = region.end_line - region.start_line + 1
    if size <= max_lines:
        return [(region.start_line, region.end_line, region.qualified_name, False)]
    if region.children:
        return _spans(
            region.start_line, region.end_line, region.children, region.qualified_name, max_lines
        )
    return [
        (s, e, region.qualified_name, False)
        for s, e in _windows(region.start_line, region.end_line, max_lines)
    ]


def _is_blank(lines: list[str], start: int, end: int) -> bool:
    return all(not lines[i - 1].strip() for i in range(start, end + 1))


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    symbol: str | None
    glue: bool
    blank: bool


def _common_owner(left: str | None, right: str | None, qualifier: str) -> str | None:
    """Longest common qualified prefix: `A > B` and `A > C` -> `A`."""
    if left is None or right is None:
        return None
    if left == right:
        return left
    common: list[str] = []
    for a, b in zip(left.split(qualifier), right.split(qualifier), strict=False):
        if a != b:
            break
        common.append(a)
    return qualifier.join(common) if common else None


def _merge_small(spans: list[_Span], max_lines: int, pack: bool, qualifier: str) -> list[_Span]:
    """Fold blank spans into a neighbour and join runs of glue (or, with `pack`, of any
    small neighbours: sections, config keys), within the cap."""
    out: list[_Span] = []
    for span in spans:
        prev = out[-1] if out else None
        if prev is not None and span.end - prev.start + 1 <= max_lines:
            if span.blank or (prev.glue and span.glue and prev.symbol == span.symbol):
                prev.end = span.end
                continue
            if pack and not prev.blank:
                prev.end = span.end
                prev.symbol = _common_owner(prev.symbol, span.symbol, qualifier)
                prev.glue = prev.glue and span.glue
                continue
            if prev.blank:  # a blank run that could not join backwards joins forwards
                span.start = prev.start
                out[-1] = span
                continue
        out.append(span)
    return [span for span in out if not span.blank]


def chunk_lines(
    path: str,
    lines: list[str],
    regions: list[Region],
    max_lines: int,
    kind: str = "code",
    *,
    pack: bool = False,
    qualifier: str = ".",
) -> list[Chunk]:
    """Chunks for a file given its symbol regions (see the module docstring for rules).

    `pack` joins small neighbouring chunks up to the cap (used for prose and config, where
    one chunk per heading or key would be too fine); the joined chunk's symbol is the
    common owner of its parts (`qualifier` separates name parts).
    """
    total = len(lines)
    if total == 0:
        return []
    max_lines = max(1, max_lines)
    spans = [
        _Span(start, end, symbol, glue, _is_blank(lines, start, end))
        for start, end, symbol, glue in _spans(1, total, regions, None, max_lines)
    ]
    return [
        Chunk(
            path,
            span.start,
            span.end,
            "\n".join(lines[span.start - 1 : span.end]),
            span.symbol,
            kind,
        )
        for span in _merge_small(spans, max_lines, pack, qualifier)
    ]


def window_chunks(path: str, lines: list[str], max_lines: int, kind: str = "text") -> list[Chunk]:
    """Plain line windows for files without a grammar."""
    return chunk_lines(path, lines, [], max_lines, kind, pack=True)
