"""Every position of an identifier in a text, for clients that need all uses.

The catalog keeps one Reference per (file, name, kind) with a count (see parser); when a
client wants each use (LSP "find references", rename previews), it reads the few files
that reference the name and scans them here. Whole-word matches only (`get` does not match
`get_value`); comments and strings are included, as in a plain-text search.

Public API:
    find_occurrences(text: str, name: str, limit: int = 1000) -> list[tuple[int, int]]
        # (1-based line, 0-based column in characters)
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _word_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])")


def find_occurrences(text: str, name: str, limit: int = 1000) -> list[tuple[int, int]]:
    """Positions of `name` as a whole word in `text`, at most `limit`, in order."""
    if not name or limit <= 0:
        return []
    positions: list[tuple[int, int]] = []
    line = 1
    line_start = 0
    scanned = 0
    for match in _word_pattern(name).finditer(text):
        start = match.start()
        newlines = text.count("\n", scanned, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, start) + 1
        scanned = start
        positions.append((line, start - line_start))
        if len(positions) >= limit:
            break
    return positions
