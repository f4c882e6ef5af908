"""A fast, grammar-free outline: the names a file defines, found by one regex per language.

The cold index's first phase uses it so search knows every file's definitions within
seconds; tree-sitter (context/parser.py) replaces these rows with exact symbols, ranges,
references and chunks in the second phase. It only has to be cheap and rarely wrong
about *names*: ranges are a single line and nesting is not resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT = r"([A-Za-z_$][\w$]*)"
# One alternation per language; group 1 is the keyword (the symbol's kind), group 2 the name.
_PATTERNS: dict[str, str] = {
    "python": rf"^[ \t]*(?:async[ \t]+)?(def|class)[ \t]+{_IDENT}",
    "javascript": rf"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?"
    rf"(function\*?|class)[ \t]+{_IDENT}",
    "typescript": rf"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?"
    rf"(?:abstract[ \t]+)?(?:async[ \t]+)?(function\*?|class|interface|enum|type)[ \t]+{_IDENT}",
    "go": rf"^(func|type)[ \t]+(?:\([^)]*\)[ \t]*)?{_IDENT}",
    "rust": rf"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:async[ \t]+)?(?:unsafe[ \t]+)?"
    rf"(fn|struct|enum|trait|type|mod)[ \t]+{_IDENT}",
    "java": rf"^[ \t]*(?:(?:public|protected|private|static|final|abstract|sealed)[ \t]+)*"
    rf"(class|interface|enum|record)[ \t]+{_IDENT}",
    "ruby": rf"^[ \t]*(def|class|module)[ \t]+(?:self\.)?{_IDENT}",
    "php": rf"^[ \t]*(?:(?:abstract|final|public|protected|private|static)[ \t]+)*"
    rf"(function|class|interface|trait)[ \t]+{_IDENT}",
}
_PATTERNS["tsx"] = _PATTERNS["typescript"]
_PATTERNS["csharp"] = _PATTERNS["java"].replace("sealed", "sealed|internal|partial")
_COMPILED = {lang: re.compile(pattern, re.MULTILINE) for lang, pattern in _PATTERNS.items()}

_KINDS = {
    "def": "function",
    "function": "function",
    "function*": "function",
    "fn": "function",
    "func": "function",
    "class": "class",
    "struct": "class",
    "record": "class",
    "interface": "interface",
    "trait": "interface",
    "enum": "enum",
    "type": "type",
    "module": "module",
    "mod": "module",
}


@dataclass(frozen=True, slots=True)
class OutlineSymbol:
    """A defined name, its kind and its 1-based line (start_col is the keyword's column)."""

    name: str
    kind: str
    line: int
    col: int


def has_outline(language: str | None) -> bool:
    """Whether the first phase can find definitions in this language."""
    return language in _COMPILED


def outline(language: str | None, text: str) -> list[OutlineSymbol]:
    """Definitions in `text`, in file order ([] for languages without a pattern)."""
    pattern = _COMPILED.get(language or "")
    if pattern is None:
        return []
    out: list[OutlineSymbol] = []
    line, pos = 1, 0
    for match in pattern.finditer(text):
        start = match.start()
        line += text.count("\n", pos, start)
        pos = start
        keyword, name = match.group(1), match.group(2)
        col = match.start(1) - start
        out.append(OutlineSymbol(name, _KINDS.get(keyword, "function"), line, col))
    return out
