"""Find the files of a workspace the way git does, fast.

Ignore rules, lowest to highest precedence (the highest rule that matches decides, and
within one file the last matching line wins, exactly like git):
    built-in junk (node_modules/, __pycache__/, .venv/, caches...) < the user's global git
    excludes (~/.config/git/ignore; both skipped with builtin_ignores=False) <
    .git/info/exclude < .gitignore and .llmgenieignore of each directory from
    the root down (deeper wins; .llmgenieignore beats .gitignore of the same directory)
    < Settings.index.ignore globs.
`.git` and `.llmgenie` directories are always skipped, and so is any directory holding a
`pyvenv.cfg` (a virtualenv). As in git, a file inside an ignored directory cannot be
re-included: ignored directories are pruned before they are read, which is what makes the
walk fast (os.scandir, one stat per kept file). Patterns are compiled by
workspace.gitignore (one regex per ignore file, evaluated per path like git does).

Symlinks: a file symlink inside the root is kept; one pointing outside is skipped as
"outside_root"; directory symlinks are not followed ("symlink_dir" when the target is
inside the root and indexed at its real path, "symlink_loop" when it points at an ancestor
or cannot be resolved, "outside_root" otherwise). Content checks (binary, minified by
content, invalid UTF-8) happen when a file is read (workspace.files.read_workspace_file), or
here with check_content=True.

Public API:
    discover_files(root: Path, settings: Settings | IndexSettings | None = None, *,
                   check_content: bool = False, builtin_ignores: bool = True) -> Discovery
    Discovery(root: Path, files: list[WorkspaceFile], skipped: list[SkippedFile])
    WorkspaceFile(rel_path: str, path: str, size: int, mtime_ns: int)
    IgnoreRules.for_root(root, settings=None, builtin_ignores=True).is_ignored(rel_path, is_dir)
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmgenie.config import IndexSettings, Settings
from llmgenie.observability.logging import get_logger
from llmgenie.workspace.files import (
    DEFAULT_MAX_BYTES,
    SNIFF_BYTES,
    SkippedFile,
    is_minified_name,
    sniff_content,
)
from llmgenie.workspace.gitignore import IgnoreSpec

_log = get_logger(__name__)

ALWAYS_SKIPPED_DIRS = frozenset({".git", ".llmgenie", ".hg", ".svn"})
IGNORE_FILE_NAMES = (".gitignore", ".llmgenieignore")
BUILTIN_IGNORES: tuple[str, ...] = (
    "node_modules/",
    "__pycache__/",
    ".venv/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".eggs/",
    "*.egg-info/",
    "*.pyc",
    "*.pyo",
    ".DS_Store",
)
# Extensions that are binary for sure: skipped without opening the file.
_BINARY_EXTENSION_LIST = (
    "png jpg jpeg gif bmp ico webp tiff psd pdf zip gz tgz bz2 xz zst 7z rar tar jar war class"
    " so dylib dll exe o a lib obj pyc pyo pyd whl woff woff2 ttf otf eot mp3 mp4 wav ogg flac"
    " avi mov mkv webm sqlite sqlite3 db bin dat npy npz pkl pickle onnx pt safetensors parquet"
    " wasm"
)
BINARY_EXTENSIONS = frozenset("." + ext for ext in _BINARY_EXTENSION_LIST.split())


@dataclass(frozen=True, slots=True)
class WorkspaceFile:
    """A file to index: workspace-relative posix path, absolute path, size and mtime."""

    rel_path: str
    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Discovery:
    """Result of one walk: files to index (sorted by path) and files skipped, with reasons."""

    root: Path
    files: list[WorkspaceFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def skipped_counts(self) -> dict[str, int]:
        """reason -> number of files skipped for it."""
        counts: dict[str, int] = {}
        for item in self.skipped:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class _Spec:
    """Compiled patterns of one ignore source, anchored at directory `base` ("" = root)."""

    base: str
    spec: IgnoreSpec


def _compile(lines: Iterable[str]) -> IgnoreSpec | None:
    return IgnoreSpec.from_lines(lines)


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def _verdict(specs: Sequence[_Spec], rel_path: str, is_dir: bool) -> bool | None:
    """True = ignored, False = re-included, None = no rule matched (highest spec first)."""
    for item in reversed(specs):
        if item.base:
            if not rel_path.startswith(item.base + "/"):
                continue
            local = rel_path[len(item.base) + 1 :]
        else:
            local = rel_path
        verdict = item.spec.verdict(local, is_dir)
        if verdict is not None:
            return verdict
    return None


@dataclass(slots=True)
class IgnoreRules:
    """The stack of ignore specs that apply at one directory (outermost first)."""

    low: list[_Spec]
    per_dir: list[_Spec]
    high: list[_Spec]

    @classmethod
    def for_root(
        cls,
        root: Path,
        settings: Settings | IndexSettings | None = None,
        builtin_ignores: bool = True,
    ) -> IgnoreRules:
        """Rules known at the root: built-ins, .git/info/exclude and configured globs."""
        low: list[_Spec] = []
        if builtin_ignores:
            builtin = _compile(BUILTIN_IGNORES)
            if builtin is not None:
                low.append(_Spec("", builtin))
        if builtin_ignores:  # the user's global git excludes (git's default location)
            user_excludes = _compile(_read_lines(str(global_excludes_path())))
            if user_excludes is not None:
                low.append(_Spec("", user_excludes))
        exclude = _compile(_read_lines(os.path.join(root, ".git", "info", "exclude")))
        if exclude is not None:
            low.append(_Spec("", exclude))
        high: list[_Spec] = []
        index_settings = _index_settings(settings)
        if index_settings is not None and index_settings.ignore:
            configured = _compile(index_settings.ignore)
            if configured is not None:
                high.append(_Spec("", configured))
        return cls(low=low, per_dir=[], high=high)

    def entering(self, dir_path: str, rel_dir: str, names: Iterable[str]) -> IgnoreRules:
        """Rules for a directory, adding its own ignore files if it has any."""
        added: list[_Spec] = []
        for ignore_name in IGNORE_FILE_NAMES:
            if ignore_name in names:
                spec = _compile(_read_lines(os.path.join(dir_path, ignore_name)))
                if spec is not None:
                    added.append(_Spec(rel_dir, spec))
        if not added:
            return self
        return IgnoreRules(self.low, self.per_dir + added, self.high)

    def is_ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether this path is ignored by the rules of its parent directory."""
        for group in (self.high, self.per_dir, self.low):
            verdict = _verdict(group, rel_path, is_dir)
            if verdict is not None:
                return verdict
        return False


def global_excludes_path() -> Path:
    """git's default core.excludesFile: $XDG_CONFIG_HOME/git/ignore (~/.config/git/ignore)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "git" / "ignore"


def _index_settings(settings: Settings | IndexSettings | None) -> IndexSettings | None:
    if isinstance(settings, Settings):
        return settings.index
    return settings


def _sniff_file(path: str, name: str) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return "symlink_loop" if exc.errno == errno.ELOOP else "unreadable"
    try:
        head = os.read(fd, SNIFF_BYTES)
    except OSError:
        return "unreadable"
    finally:
        os.close(fd)
    return sniff_content(head, name)


def discover_files(
    root: Path,
    settings: Settings | IndexSettings | None = None,
    *,
    check_content: bool = False,
    builtin_ignores: bool = True,
) -> Discovery:
    """Walk `root` honouring ignore rules; return kept files (sorted) and skipped ones."""
    root_real = os.path.realpath(root)
    index_settings = _index_settings(settings)
    max_bytes = index_settings.max_file_bytes if index_settings else DEFAULT_MAX_BYTES
    result = Discovery(root=Path(root_real))
    rules = IgnoreRules.for_root(Path(root_real), settings, builtin_ignores)
    # Depth-first walk with an explicit stack; each directory's scandir happens once.
    stack: list[tuple[str, str, IgnoreRules]] = [(root_real, "", rules)]
    files = result.files
    skipped = result.skipped
    while stack:
        dir_path, rel_dir, parent_rules = stack.pop()
        try:
            with os.scandir(dir_path) as iterator:
                entries = list(iterator)
        except OSError as exc:
            skipped.append(SkippedFile(rel_dir or ".", "unreadable", exc.strerror or str(exc)))
            continue
        names = {entry.name for entry in entries}
        if rel_dir and "pyvenv.cfg" in names:
            continue
        dir_rules = parent_rules.entering(dir_path, rel_dir, names)
        prefix = rel_dir + "/" if rel_dir else ""
        for entry in entries:
            name = entry.name
            rel = prefix + name
            if not _utf8_name(name):
                shown = rel.encode("utf-8", "backslashreplace").decode("utf-8")
                skipped.append(SkippedFile(shown, "undecodable_name", "name is not UTF-8"))
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                skipped.append(SkippedFile(rel, "unreadable"))
                continue
            if is_dir:
                if name in ALWAYS_SKIPPED_DIRS or dir_rules.is_ignored(rel, True):
                    continue
                stack.append((entry.path, rel, dir_rules))
                continue
            if is_link:
                _handle_symlink(entry, rel, root_real, dir_rules, max_bytes, result)
                continue
            if name in ALWAYS_SKIPPED_DIRS or dir_rules.is_ignored(rel, False):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append(SkippedFile(rel, "unreadable", exc.strerror or str(exc)))
                continue
            _keep_regular(entry.path, rel, name, info, max_bytes, check_content, result)
    files.sort(key=lambda item: item.rel_path)
    _log.debug("workspace_discovered", root=root_real, files=len(files), skipped=len(skipped))
    return result


def _utf8_name(name: str) -> bool:
    """False for a name with bytes that are not UTF-8 (Python gives them as surrogates):
    such a path cannot be stored in the catalog nor sent to an editor, so it is skipped."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _keep_regular(
    path: str,
    rel: str,
    name: str,
    info: os.stat_result,
    max_bytes: int,
    check_content: bool,
    result: Discovery,
) -> None:
    if not stat.S_ISREG(info.st_mode):
        result.skipped.append(SkippedFile(rel, "unreadable", "not a regular file"))
        return
    if info.st_size > max_bytes:
        result.skipped.append(SkippedFile(rel, "too_large", f"{info.st_size} bytes"))
        return
    dot = name.rfind(".")
    if dot > 0 and name[dot:].lower() in BINARY_EXTENSIONS:
        result.skipped.append(SkippedFile(rel, "binary", "extension"))
        return
    if is_minified_name(name):
        result.skipped.append(SkippedFile(rel, "minified", "file name"))
        return
    if check_content:
        verdict = _sniff_file(path, name)
        if verdict is not None:
            result.skipped.append(SkippedFile(rel, verdict))
            return
    result.files.append(WorkspaceFile(rel, path, info.st_size, info.st_mtime_ns))


def _handle_symlink(
    entry: os.DirEntry[str],
    rel: str,
    root_real: str,
    rules: IgnoreRules,
    max_bytes: int,
    result: Discovery,
) -> None:
    """Classify a symlink: keep file links inside the root, never follow directory links."""
    try:
        info = os.stat(entry.path)
    except OSError as exc:
        reason = "symlink_loop" if exc.errno == errno.ELOOP else "unreadable"
        result.skipped.append(SkippedFile(rel, reason, exc.strerror or str(exc)))
        return
    target = os.path.realpath(entry.path)
    inside = target == root_real or target.startswith(root_real + os.sep)
    is_dir = stat.S_ISDIR(info.st_mode)
    if rules.is_ignored(rel, is_dir):
        return
    if not inside:
        result.skipped.append(SkippedFile(rel, "outside_root", target))
        return
    if is_dir:
        # Pointing at the directory holding the link, or above it, would walk forever.
        parent_real = os.path.realpath(os.path.dirname(entry.path))
        is_ancestor = target == parent_real or parent_real.startswith(target + os.sep)
        result.skipped.append(
            SkippedFile(rel, "symlink_loop" if is_ancestor else "symlink_dir", target)
        )
        return
    name = entry.name
    _keep_regular(entry.path, rel, name, info, max_bytes, False, result)
