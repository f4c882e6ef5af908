"""Map file names to tree-sitter languages and hand out cached, per-thread parsers.

Grammars come from `tree_sitter_language_pack` (compiled into the wheel: nothing is
downloaded at run time). tree-sitter `Parser` objects are not thread-safe, so parsers are
cached per thread; `Language` and compiled `Query` objects are immutable and shared.

Public API:
    language_for_path(path: str) -> str | None        # our language id, e.g. "python"
    get_ts_language(lang: str) -> tree_sitter.Language | None
    get_ts_parser(lang: str) -> tree_sitter.Parser | None   # per thread
    SUPPORTED_LANGUAGES: frozenset[str]
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import PurePosixPath
from typing import Any, cast

from tree_sitter import Language, Parser

from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

# Our language id -> the pack's grammar name (they differ only for C#).
_PACK_NAMES: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "typescript",
    "tsx": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "csharp": "csharp",
    "ruby": "ruby",
    "php": "php",
    "bash": "bash",
    "yaml": "yaml",
    "json": "json",
    "toml": "toml",
    "hcl": "hcl",
    "dockerfile": "dockerfile",
    "markdown": "markdown",
}

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_PACK_NAMES)

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".php": "php",
    ".sh": "bash",
    ".bash": "bash",
    ".zsh": "bash",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".jsonc": "json",
    ".toml": "toml",
    ".tf": "hcl",
    ".tfvars": "hcl",
    ".hcl": "hcl",
    ".nomad": "hcl",
    ".dockerfile": "dockerfile",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
}

_FILENAMES: dict[str, str] = {
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "rakefile": "ruby",
    "gemfile": "ruby",
    "vagrantfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
    ".profile": "bash",
    ".zshrc": "bash",
    "pipfile": "toml",
    "cargo.lock": "toml",
    "poetry.lock": "toml",
}


def language_for_path(path: str) -> str | None:
    """Our language id for a workspace path (by file name, then extension), or None."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    by_name = _FILENAMES.get(name)
    if by_name is not None:
        return by_name
    if name.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    dot = name.rfind(".")
    if dot <= 0:
        return None
    return _EXTENSIONS.get(name[dot:])


@cache
def get_ts_language(lang: str) -> Language | None:
    """The tree-sitter Language for our id; None (logged once) if the grammar is missing."""
    pack_name = _PACK_NAMES.get(lang)
    if pack_name is None:
        return None
    try:
        from tree_sitter_language_pack import get_language

        return get_language(cast(Any, pack_name))
    except (LookupError, ImportError, OSError, ValueError) as exc:
        _log.warning("grammar_unavailable", language=lang, error=str(exc))
        return None


_local = threading.local()


def get_ts_parser(lang: str) -> Parser | None:
    """A parser for `lang` owned by the calling thread (parsers are not thread-safe)."""
    cache: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if cache is None:
        cache = {}
        _local.parsers = cache
    parser = cache.get(lang)
    if parser is None:
        language = get_ts_language(lang)
        if language is None:
            return None
        parser = Parser(language)
        cache[lang] = parser
    return parser
