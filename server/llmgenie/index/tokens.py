"""Code-aware tokens for the lexical index, used identically at index and at query time.

An identifier such as `parseHTTPRequest_v2` yields itself (lowercased) plus its parts
(`parse`, `http`, `request`, `v`, `2`), so a query for either the whole name or a word
inside it matches. Dotted, slashed and kebab paths split into their identifiers first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# A "word" is a run of letters, digits and underscores (unicode aware).
WORD_RE = re.compile(r"\w+")
# Inside one underscore-free piece: acronyms before a capitalised word (HTTPServer ->
# HTTP, Server), capitalised or lowercase words, remaining capitals, digit runs, and any
# other letters (non-ASCII scripts) as a fallback.
_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_]+|\d+")

MAX_TOKEN_LEN = 64
_CACHE_LIMIT = 200_000


def split_identifier(word: str) -> list[str]:
    """The lowercased parts of one identifier (snake_case, camelCase, PascalCase, digits)."""
    parts: list[str] = []
    for piece in word.split("_"):
        if piece:
            parts.extend(p.lower() for p in _PART_RE.findall(piece))
    return parts


def expand_word(word: str) -> list[str]:
    """Tokens for one word: the whole identifier (lowercased) first, then its parts if several."""
    whole = word.lower().strip("_")
    if not whole or len(whole) > MAX_TOKEN_LEN:
        return []
    parts = split_identifier(word)
    if len(parts) <= 1:
        return [whole]
    return [whole, *parts]


class _ExpansionCache(dict[str, str]):
    """word -> space-joined tokens; `__missing__` computes, so lookups run at C speed."""

    def __missing__(self, word: str) -> str:
        value = " ".join(expand_word(word))
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[word] = value
        return value


_expansions = _ExpansionCache()


def code_tokens(text: str) -> list[str]:
    """All tokens of `text` in order (identifiers followed by their parts), lowercased."""
    out: list[str] = []
    for word in WORD_RE.findall(text):
        out.extend(expand_word(word))
    return out


def fts_text(text: str) -> str:
    """`text` rewritten as space-separated tokens, the form stored in the FTS5 columns."""
    return " ".join(filter(None, map(_expansions.__getitem__, WORD_RE.findall(text))))


def fts_text_of(names: Iterable[str]) -> str:
    """Tokens of several short strings (symbol names, a path) as one FTS5 column value."""
    return " ".join(fts_text(n) for n in names)


def any_tokens(body: str, symbol: str) -> str:
    """The chunk FTS "any" column: body tokens, then symbol tokens (see index/schema.py)."""
    return f"{body} {symbol}" if body and symbol else body or symbol


@lru_cache(maxsize=8192)
def symbol_only_tokens(symbol: str, body: str) -> str:
    """The symbol tokens that are not body tokens, sorted (see index/schema.py); memoised,
    because an edited open document repeats most of its chunks."""
    if not symbol:
        return ""
    padded = f" {body} "
    return " ".join(sorted({t for t in symbol.split() if f" {t} " not in padded}))


def names_tokens(names: Iterable[str]) -> str:
    """The files FTS "symbols" column: tokens of a file's defined names, each name once, in
    order of first definition (see index/schema.py)."""
    return fts_text_of(dict.fromkeys(names))
