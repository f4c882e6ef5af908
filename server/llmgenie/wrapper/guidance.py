"""Project guidance for context analysis: what the project tells AI tools (AGENTS.md,
CLAUDE.md, Cursor's `.cursorrules` and `.cursor/rules/*.mdc`, Cline's `.clinerules`,
Continue's `.continue/rules`, Copilot's instructions) and what it tells contributors
(CONTRIBUTING, README, docs/decisions).

Scoped rules follow their tool's own front matter: a Cursor or Continue rule with `globs`
applies when the run's file matches one of them (or it says `alwaysApply: true`), a Copilot
`*.instructions.md` when the file matches its `applyTo`. A rule scoped to other files is
left out; a rule with no scope applies everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

MAX_GUIDANCE_CHARS = 2_000
MAX_GUIDANCE_ITEMS = 12
MAX_RULE_BYTES = 200_000

# In priority order: rules written for AI tools first, then what people read.
_GUIDANCE_FILES = (
    "AGENTS.md",
    "CLAUDE.md",
    ".cursorrules",
    ".clinerules",  # a file, or a directory of rule files (below)
    ".github/copilot-instructions.md",
)
_RULE_GLOBS = (
    ".cursor/rules/*.mdc",
    ".clinerules/*.md",
    ".continue/rules/*.md",
    ".github/instructions/*.instructions.md",
)
_PEOPLE_FILES = ("CONTRIBUTING.md", "README.md", "README.rst", "README")
_PEOPLE_GLOBS = ("docs/decisions/*.md", "docs/adr/*.md")


def _read(path: Path, limit: int = MAX_GUIDANCE_CHARS) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            text = fh.read(limit + 1)
    except OSError:
        return ""
    return text if len(text) <= limit else text[:limit] + "\n…(truncated)"


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (OSError, ValueError):
        return False
    return True


def front_matter(text: str) -> tuple[dict[str, list[str]], str]:
    """(keys → values, body) of a rule file's `---` front matter (the small YAML subset
    rule files use: `key: value`, `key: a, b`, `key: [a, b]`, `key:` then `- item` lines)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return {}, text
    meta: dict[str, list[str]] = {}
    key = ""
    for line in lines[1:end]:
        item = re.match(r"^\s*-\s+(.*)$", line)
        if item and key:
            meta[key].extend(_values(item.group(1)))
            continue
        pair = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if pair:
            key = pair.group(1)
            meta[key] = _values(pair.group(2))
    return meta, "\n".join(lines[end + 1 :])


def _values(raw: str) -> list[str]:
    raw = raw.strip().removeprefix("[").removesuffix("]")
    return [v.strip().strip("'\"") for v in raw.split(",") if v.strip().strip("'\"")]


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A rule glob as a regex over workspace-relative posix paths (`**` spans folders; a
    pattern with no `/` matches a file name anywhere, as Cursor and Copilot do)."""
    if "/" not in pattern.strip("/"):
        pattern = "**/" + pattern
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out.lstrip("/") + r"\Z")


def matches(patterns: list[str], rel_path: str) -> bool:
    """Whether `rel_path` matches any of the globs."""
    return any(_glob_regex(p.strip()).match(rel_path) for p in patterns if p.strip())


def _applies(meta: dict[str, list[str]], target: str | None) -> bool:
    """Whether a rule with this front matter applies to a run on `target`."""
    if [v.lower() for v in meta.get("alwaysApply", [])] == ["true"]:
        return True
    scope = meta.get("globs") or meta.get("applyTo") or []
    if not scope:
        return True  # not scoped: always
    return target is not None and matches(scope, target)


def _candidates(root: Path) -> list[Path]:
    paths = [root / name for name in _GUIDANCE_FILES]
    for pattern in _RULE_GLOBS:
        paths.extend(sorted(root.glob(pattern)))
    paths.extend(root / name for name in _PEOPLE_FILES)
    for pattern in _PEOPLE_GLOBS:
        paths.extend(sorted(root.glob(pattern)))
    return paths


def project_guidance(
    root: Path, redact: Callable[[str], str], target: str | None = None
) -> list[str]:
    """Guidance texts that apply to a run on `target` (a workspace-relative path, or None),
    each prefixed with its source path; redacted and size-capped."""
    root = root.resolve()
    out: list[str] = []
    for path in _candidates(root):
        if len(out) >= MAX_GUIDANCE_ITEMS:
            break
        if not path.is_file() or not _inside(root, path):
            continue
        meta, body = front_matter(_read(path, MAX_RULE_BYTES))
        if not _applies(meta, target):
            continue
        text = body.strip()
        if len(text) > MAX_GUIDANCE_CHARS:
            text = text[:MAX_GUIDANCE_CHARS] + "\n…(truncated)"
        if text:
            rel = path.relative_to(root).as_posix()
            out.append(f"[{rel}]\n{redact(text)}")
    return out
