"""Project guidance for context analysis: what the project tells contributors (README,
docs/decisions, CONTRIBUTING) and what it tells AI tools (Cursor's `.cursorrules` and
`.cursor/rules/*.mdc`, AGENTS.md, Copilot instructions).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

MAX_GUIDANCE_CHARS = 2_000
MAX_GUIDANCE_ITEMS = 12
_TRAIT_SCAN_DEPTH = 3
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", "target"}
)

_GUIDANCE_FILES = (
    ".cursorrules",
    "AGENTS.md",
    ".github/copilot-instructions.md",
    "CONTRIBUTING.md",
    "README.md",
    "README.rst",
    "README",
)
_GUIDANCE_GLOBS = (".cursor/rules/*.mdc", "docs/decisions/*.md", "docs/adr/*.md")


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


def project_guidance(root: Path, redact: Callable[[str], str]) -> list[str]:
    """Guidance texts, each prefixed with its source path; redacted and size-capped."""
    root = root.resolve()
    candidates: list[Path] = [root / name for name in _GUIDANCE_FILES]
    for pattern in _GUIDANCE_GLOBS:
        candidates.extend(sorted(root.glob(pattern)))
    out: list[str] = []
    for path in candidates:
        if len(out) >= MAX_GUIDANCE_ITEMS:
            break
        if not path.is_file() or not _inside(root, path):
            continue
        text = _read(path).strip()
        if text:
            rel = path.relative_to(root).as_posix()
            out.append(f"[{rel}]\n{redact(text)}")
    return out
