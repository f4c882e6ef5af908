"""Safe file access inside a workspace root.

Public API:
    resolve_inside(root: Path, rel_path: str | os.PathLike[str], *, allow_absolute=False) -> Path
    to_rel(root: Path, path: str | os.PathLike[str]) -> str          # posix, relative to root
    read_workspace_file(path, *, max_bytes=1 MiB, rel_path="") -> FileText | SkippedFile
    decode_source(data: bytes) -> tuple[str, bool]                    # (text, had_errors)
    sniff_content(data: bytes, name: str) -> str | None               # "binary"/"minified"/None
    SkippedFile(rel_path, reason, detail), FileText(text, size, content_hash, decode_errors)
    open_regular(path) -> BinaryIO        # NotRegularFileError for FIFOs, devices, sockets
    read_regular_text(path, *, max_bytes) -> str   # FileTooLargeError past max_bytes
    read_line_window(path, start, end, *, max_bytes) -> TextWindow   # streams, O(range) memory
    text_window(text, start, end, *, max_bytes) -> TextWindow

Skip reasons used across the workspace layer: "binary", "too_large", "minified",
"unreadable", "symlink_loop", "outside_root", "symlink_dir" (a directory symlink whose
target is inside the root and therefore indexed at its real location).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from llmgenie.contracts.errors import PathEscapeError

SNIFF_BYTES = 8192
DEFAULT_MAX_BYTES = 1_048_576
# A "line" this long on average means generated or minified content, not code to read.
MINIFIED_AVG_LINE = 400
MINIFIED_MIN_BYTES = 2048
_MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".min.css", "-min.js", ".bundle.js", ".min.map")


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file the workspace layer decided not to index, and why."""

    rel_path: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FileText:
    """A file's decoded text; `decode_errors` is True when invalid UTF-8 was replaced."""

    text: str
    size: int
    content_hash: str
    decode_errors: bool = False


def _normalise(rel_path: str | os.PathLike[str]) -> str:
    raw = os.fspath(rel_path)
    if "\x00" in raw:
        raise PathEscapeError(f"path contains a NUL byte: {raw!r}")
    return raw.replace("\\", "/")


def resolve_inside(
    root: Path, rel_path: str | os.PathLike[str], *, allow_absolute: bool = False
) -> Path:
    """Resolve `rel_path` under `root` (symlinks included); raise PathEscapeError if it leaves.

    Rejected: NUL bytes, absolute or drive paths (unless `allow_absolute` and inside root),
    `..` that climbs above the root, and symlinks whose target is outside the root. The path
    need not exist (agents create files); the existing part of it is resolved.
    """
    text = _normalise(rel_path)
    root_real = Path(os.path.realpath(root))
    is_abs = text.startswith("/") or (len(text) >= 2 and text[1] == ":")
    if is_abs:
        if not allow_absolute:
            raise PathEscapeError(f"absolute paths are not allowed: {text!r}")
        candidate = Path(text)
    else:
        parts: list[str] = []
        for part in text.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise PathEscapeError(f"path escapes the workspace: {text!r}")
                parts.pop()
            else:
                parts.append(part)
        candidate = root_real.joinpath(*parts)
    resolved = Path(os.path.realpath(candidate))
    if resolved != root_real and not resolved.is_relative_to(root_real):
        raise PathEscapeError(f"path resolves outside the workspace: {text!r} -> {resolved}")
    return resolved


def to_rel(root: Path, path: str | os.PathLike[str]) -> str:
    """Workspace-relative posix path of `path` (absolute, or relative to root)."""
    text = _normalise(path)
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = Path(root) / candidate
    for base in (Path(os.path.abspath(root)), Path(os.path.realpath(root))):
        absolute = Path(os.path.normpath(candidate))
        if absolute.is_relative_to(base):
            rel = absolute.relative_to(base).as_posix()
            return "" if rel == "." else rel
    real = Path(os.path.realpath(candidate))
    root_real = Path(os.path.realpath(root))
    if real.is_relative_to(root_real):
        rel = real.relative_to(root_real).as_posix()
        return "" if rel == "." else rel
    raise PathEscapeError(f"path is outside the workspace: {text!r}")


def is_minified_name(name: str) -> bool:
    """File names that announce minified or bundled output."""
    return name.lower().endswith(_MINIFIED_SUFFIXES)


def sniff_content(data: bytes, name: str) -> str | None:
    """'binary' (NUL in the first 8 KiB), 'minified' (very long lines), or None."""
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        return "binary"
    if is_minified_name(name):
        return "minified"
    if len(data) >= MINIFIED_MIN_BYTES:
        newlines = head.count(b"\n")
        if len(head) / (newlines + 1) > MINIFIED_AVG_LINE:
            return "minified"
    return None


def decode_source(data: bytes) -> tuple[str, bool]:
    """Decode as UTF-8 (BOM stripped); invalid bytes become U+FFFD and the flag is set."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def content_hash(data: bytes) -> str:
    """Stable short content hash used to detect changed files."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_workspace_file(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, rel_path: str = ""
) -> FileText | SkippedFile:
    """Read and decode a file, or say why it is skipped; never raises for bad files.

    Opens non-blocking so a FIFO cannot hang the indexer, and checks the opened object is
    a regular file before reading it.
    """
    name = rel_path or os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return SkippedFile(name, _oserror_reason(exc), exc.strerror or str(exc))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return SkippedFile(name, "unreadable", "not a regular file")
        if info.st_size > max_bytes:
            return SkippedFile(name, "too_large", f"{info.st_size} bytes > {max_bytes}")
        chunks: list[bytes] = []
        total = 0
        while True:
            block = os.read(fd, max(info.st_size - total, 0) + 65536)
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > max_bytes:
                return SkippedFile(name, "too_large", f"more than {max_bytes} bytes")
        data = b"".join(chunks)
    except OSError as exc:
        return SkippedFile(name, _oserror_reason(exc), exc.strerror or str(exc))
    finally:
        os.close(fd)
    verdict = sniff_content(data, PurePosixPath(name).name)
    if verdict is not None:
        return SkippedFile(name, verdict)
    text, errors = decode_source(data)
    return FileText(
        text=text, size=len(data), content_hash=content_hash(data), decode_errors=errors
    )


def _oserror_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symlink_loop"
    return "unreadable"


class NotRegularFileError(OSError):
    """The path is a FIFO, device or socket: reading it could block forever or never end."""


class FileTooLargeError(OSError):
    """The file is larger than the caller is willing to load at once."""


def open_regular(path: str | os.PathLike[str], *, name: str = "") -> BinaryIO:
    """Open `path` for binary reading only if it is a regular file.

    The open itself is non-blocking (a FIFO without a writer would otherwise block here) and
    the check is made on the opened descriptor, so the file cannot be swapped for a FIFO
    between a check and the open.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(f"{name or os.fspath(path)} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_text(path: str | os.PathLike[str], *, max_bytes: int, name: str = "") -> str:
    """Decoded text of a regular file of at most `max_bytes` bytes (FileTooLargeError else);
    `name` is how errors call the file (a workspace-relative path)."""
    with open_regular(path, name=name) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(f"{name or os.fspath(path)} is larger than {max_bytes} bytes")
    return decode_source(data)[0]


@dataclass(frozen=True, slots=True)
class TextWindow:
    """Lines `start`.. of a file (as many as were asked and fit), and its total line count.

    `cut` is True when a line or the window was shortened to stay within its byte limit.
    """

    start: int
    lines: list[str]
    total: int
    cut: bool = False


def _window(
    pieces: Iterable[tuple[bytes, bool]], start: int, end: int, max_bytes: int
) -> TextWindow:
    """Collect lines start..end from (line bytes, line complete) pieces; count the rest."""
    lines: list[str] = []
    kept = 0
    cut = False
    number = 0
    for piece, complete in pieces:
        number += 1
        if start <= number <= end:
            room = max_bytes - kept
            if len(piece) > room or not complete:
                piece, cut = piece[: max(room, 0)], True
            if room > 0:
                lines.append(decode_source(piece.rstrip(b"\r\n"))[0])
                kept += len(piece)
    return TextWindow(start=start, lines=lines, total=number, cut=cut)


def text_window(text: str, start: int, end: int, *, max_bytes: int) -> TextWindow:
    """The TextWindow of text already in memory (an editor buffer)."""
    pieces = ((line.encode("utf-8", "surrogatepass"), True) for line in text.splitlines())
    return _window(pieces, start, end, max_bytes)


_LINE_CHUNK = 65536


def _stream_lines(handle: BinaryIO, start: int, end: int) -> Iterable[tuple[bytes, bool]]:
    """Lines 1..end of `handle`, holding at most one chunk: lines before `start` come back
    empty, and a line longer than a chunk yields its first chunk (complete=False)."""
    number = 0
    while number < end:
        piece = handle.readline(_LINE_CHUNK)
        if not piece:
            return
        number += 1
        long = len(piece) == _LINE_CHUNK and not piece.endswith(b"\n")
        while long and (more := handle.readline(_LINE_CHUNK)) and not more.endswith(b"\n"):
            pass
        yield (piece if number >= start else b""), not long


def _count_rest(handle: BinaryIO) -> int:
    """Lines left in `handle`, counted block by block."""
    count = 0
    last = b"\n"
    while block := handle.read(1 << 20):
        count += block.count(b"\n")
        last = block[-1:]
    return count + (last != b"\n")


def read_line_window(
    path: str | os.PathLike[str], start: int, end: int, *, max_bytes: int, name: str = ""
) -> TextWindow:
    """Lines start..end of a regular file, streamed: memory stays at one chunk plus the
    window however large the file is (the total line count is counted, not loaded)."""
    with open_regular(path, name=name) as handle:
        window = _window(_stream_lines(handle, start, end), start, end, max_bytes)
        return replace(window, total=window.total + _count_rest(handle))
