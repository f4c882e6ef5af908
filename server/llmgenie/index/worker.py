"""Read + hash + parse + tokenize files; runs in a process pool during a cold index.

Workers receive small task tuples and return `FilePayload`s; they never touch SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmgenie.context.languages import language_for_path
from llmgenie.context.outline import outline
from llmgenie.index.parsing import parse_text
from llmgenie.index.payload import FilePayload, SymbolRow, payload_from_parsed
from llmgenie.index.schema import TEXT_LEVEL
from llmgenie.workspace.classify import is_test_path
from llmgenie.workspace.files import FileText, content_hash, decode_source, read_workspace_file


@dataclass(frozen=True, slots=True)
class FileTask:
    """One file to (re)index; `old_hash` lets the worker skip parsing unchanged content."""

    rel_path: str
    abs_path: str
    size: int
    mtime_ns: int
    old_hash: str | None


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    max_bytes: int
    chunk_max_lines: int


def prepare_file(task: FileTask, config: WorkerConfig) -> FilePayload:
    """Read and parse one file; unreadable/binary files come back as status 'skipped'."""
    read = read_workspace_file(task.abs_path, max_bytes=config.max_bytes, rel_path=task.rel_path)
    if not isinstance(read, FileText):
        return FilePayload(
            path=task.rel_path,
            size=task.size,
            mtime_ns=task.mtime_ns,
            hash="",
            status="skipped",
            skip_reason=read.reason,
        )
    if task.old_hash is not None and read.content_hash == task.old_hash:
        return FilePayload(
            path=task.rel_path,
            size=read.size,
            mtime_ns=task.mtime_ns,
            hash=read.content_hash,
            status="unchanged",
        )
    return prepare_text(
        task.rel_path,
        read.text,
        config,
        size=read.size,
        mtime_ns=task.mtime_ns,
        content_hash_=read.content_hash,
        decode_errors=read.decode_errors,
    )


def prepare_text(
    rel_path: str,
    text: str,
    config: WorkerConfig,
    *,
    size: int,
    mtime_ns: int,
    content_hash_: str,
    decode_errors: bool = False,
    text_level: int = TEXT_LEVEL,
) -> FilePayload:
    """Parse in-memory text into a payload (used for editor buffers too, with a low
    `text_level`: see index/schema.py)."""
    parsed = parse_text(rel_path, text, config.chunk_max_lines)
    payload = payload_from_parsed(
        parsed,
        size=size,
        mtime_ns=mtime_ns,
        content_hash=content_hash_,
        text=text,
        text_level=text_level,
    )
    payload.has_errors = payload.has_errors or decode_errors
    return payload


def prepare_lexical(task: FileTask, config: WorkerConfig) -> FilePayload:
    """The first-phase payload: path, outline names and file facts, no grammar (fast).

    Status "lexical" tells the writer to mark the file for the second phase, which
    replaces these rows with the full parse (prepare_file with the hash check off).
    """
    read = read_workspace_file(task.abs_path, max_bytes=config.max_bytes, rel_path=task.rel_path)
    if not isinstance(read, FileText):
        return FilePayload(
            path=task.rel_path,
            size=task.size,
            mtime_ns=task.mtime_ns,
            hash="",
            status="skipped",
            skip_reason=read.reason,
        )
    if task.old_hash is not None and read.content_hash == task.old_hash:
        return FilePayload(
            path=task.rel_path,
            size=read.size,
            mtime_ns=task.mtime_ns,
            hash=read.content_hash,
            status="unchanged",
        )
    language = language_for_path(task.rel_path)
    names = outline(language, read.text)
    symbols: list[SymbolRow] = [
        (s.name, s.name, s.kind, s.line, s.line, s.col, "", "", None) for s in names
    ]
    return FilePayload(
        path=task.rel_path,
        size=read.size,
        mtime_ns=task.mtime_ns,
        hash=read.content_hash,
        language=language,
        status="lexical",
        has_errors=read.decode_errors,
        is_test=is_test_path(task.rel_path),
        lines=read.text.count("\n") + 1 if read.text else 0,
        symbols=symbols,
    )


def prepare_batch(tasks: list[FileTask], config: WorkerConfig) -> list[FilePayload]:
    """A batch of files (one pool round-trip amortises pickling and scheduling)."""
    return [prepare_file(task, config) for task in tasks]


def prepare_lexical_batch(tasks: list[FileTask], config: WorkerConfig) -> list[FilePayload]:
    """A batch of first-phase payloads."""
    return [prepare_lexical(task, config) for task in tasks]


def hash_text(text: str) -> str:
    """The content hash of a buffer, comparable with the hash of the same bytes on disk."""
    return content_hash(text.encode("utf-8", "surrogatepass"))


__all__ = [
    "FileTask",
    "WorkerConfig",
    "decode_source",
    "prepare_batch",
    "prepare_file",
    "prepare_lexical",
    "prepare_lexical_batch",
]
