"""gitignore patterns compiled for per-path evaluation, exactly as git applies them.

git evaluates ignore rules one directory level at a time: a pattern matches a path only if
it matches that path itself; files below an ignored directory are excluded because git
never descends into it (and cannot re-include them). pathspec also matches everything
*below* a matched directory, which breaks negations at deeper levels (`!/a` would re-include
`a/a/x`), so the walk uses this small translator instead.

Each ignore file becomes one regex: an alternation of its patterns, last pattern first, so
the first alternative that matches is the last matching line (git's "last match wins"),
and `lastgroup` says which line, hence whether it was a negation. Patterns ending in `/`
match directories only; they are left out of the file regex.

Public API:
    IgnoreSpec.from_lines(lines) -> IgnoreSpec | None
    IgnoreSpec.verdict(rel_path: str, is_dir: bool) -> bool | None  # ignored/included/no match
    translate(pattern: str) -> tuple[str, bool, bool] | None         # (regex, negated, dir_only)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def _strip_trailing_spaces(pattern: str) -> str:
    """Trailing spaces are ignored unless escaped with a backslash."""
    end = len(pattern)
    while end > 0 and pattern[end - 1] == " ":
        if end >= 2 and pattern[end - 2] == "\\":
            break
        end -= 1
    return pattern[:end]


def _char_class(pattern: str, start: int) -> tuple[str, int] | None:
    """Translate `[...]` at `start`; None if it is not a complete class."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            body = "".join(items) or "^/"
            return ("[^/" + body + "]" if negate else "[" + body + "]"), i + 1
        first = False
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        if char == "-" and items and i + 1 < len(pattern) and pattern[i + 1] != "]":
            items.append("-")
        elif char == "/":
            pass  # never matches a path separator
        else:
            items.append(re.escape(char))
        i += 1
    return None


def _glob_to_regex(glob: str) -> str:
    """Translate one glob (without leading `/`, trailing `/` or `!`) to a regex body."""
    out: list[str] = []
    i = 0
    n = len(glob)
    while i < n:
        char = glob[i]
        if char == "*":
            if glob.startswith("**", i):
                at_start = i == 0 or glob[i - 1] == "/"
                end = i + 2
                if at_start and (end == n or glob[end] == "/"):
                    if end == n:  # `**` at the end: everything
                        out.append(".*")
                        i = end
                    else:  # `**/`: zero or more directories
                        out.append("(?:.*/)?")
                        i = end + 1
                    continue
                while i < n and glob[i] == "*":
                    i += 1
                out.append("[^/]*")
                continue
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            translated = _char_class(glob, i)
            if translated is None:
                out.append(re.escape(char))
                i += 1
            else:
                out.append(translated[0])
                i = translated[1]
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def translate(pattern: str) -> tuple[str, bool, bool] | None:
    """(regex matching a relative path, negated, directory-only), or None for no pattern."""
    if not pattern or pattern.startswith("#"):
        return None
    pattern = _strip_trailing_spaces(pattern)
    negated = pattern.startswith("!")
    if negated or pattern.startswith(("\\!", "\\#")):
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/") if dir_only else pattern
    if not pattern:
        return None
    anchored = "/" in pattern
    pattern = pattern.lstrip("/") if anchored else pattern
    if not pattern:
        return None
    body = _glob_to_regex(pattern)
    if not anchored:
        body = "(?:.*/)?" + body
    return body, negated, dir_only


@dataclass(frozen=True, slots=True)
class IgnoreSpec:
    """One ignore file's patterns, compiled for files and for directories."""

    file_regex: re.Pattern[str] | None
    dir_regex: re.Pattern[str] | None
    negated: frozenset[str]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> IgnoreSpec | None:
        """Compile gitignore lines; None when there is no pattern at all."""
        compiled: list[tuple[str, bool, bool]] = []
        for line in lines:
            item = translate(line.rstrip("\r\n"))
            if item is not None:
                try:
                    re.compile(item[0])
                except re.error:
                    continue
                compiled.append(item)
        if not compiled:
            return None
        negated = frozenset(f"p{i}" for i, (_, neg, _) in enumerate(compiled) if neg)

        def build(include_dir_only: bool) -> re.Pattern[str] | None:
            alternatives = [
                f"(?P<p{i}>{regex})\\Z"
                for i, (regex, _, dir_only) in reversed(list(enumerate(compiled)))
                if include_dir_only or not dir_only
            ]
            return re.compile("(?:" + "|".join(alternatives) + ")") if alternatives else None

        return cls(build(False), build(True), negated)

    def verdict(self, rel_path: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included by a negation, None if no line matches."""
        regex = self.dir_regex if is_dir else self.file_regex
        if regex is None:
            return None
        match = regex.match(rel_path)
        if match is None:
            return None
        return match.lastgroup not in self.negated
