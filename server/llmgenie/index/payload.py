"""Turn one file's text into the rows the catalog stores (runs in worker processes).

Everything here is a plain tuple so batches pickle quickly between processes; the single
writer only has to assign ids and call executemany.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from llmgenie.context.models import ParsedFile
from llmgenie.index.schema import (
    EDIT_TEXT_LEVEL,
    TEXT_LEVEL,
    pack_text,
    remember_file_lines,
    split_lines,
)
from llmgenie.index.tokens import fts_text, fts_text_of
from llmgenie.workspace.classify import is_test_path

# (name, qualified_name, kind, start_line, end_line, start_col, signature, docstring, parent)
SymbolRow = tuple[str, str, str, int, int, int, str, str, str | None]
# (name, kind, count): positions are not stored (the editor finds uses in the live text)
RefRow = tuple[str, str, int]
# (start_line, end_line, symbol, kind, text, vec_id, fts_symbol_tokens, fts_body_tokens,
#  body token count)
ChunkRow = tuple[int, int, str | None, str, str, int, str, str, int]

MAX_DOCSTRING = 2000


@dataclass(slots=True)
class FilePayload:
    """One file ready to write: metadata plus symbol, reference, import and chunk rows."""

    path: str
    size: int
    mtime_ns: int
    hash: str
    language: str | None = None
    status: str = "parsed"  # parsed | unchanged | skipped
    skip_reason: str = ""
    has_errors: bool = False
    is_test: bool = False
    lines: int = 0
    symbols: list[SymbolRow] = field(default_factory=list)
    refs: list[RefRow] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    chunks: list[ChunkRow] = field(default_factory=list)
    text_blob: bytes | None = None
    """The whole text, compressed, when every chunk's text is exactly its lines of it (the
    catalog then derives chunk texts from it instead of storing each; see index/schema.py)."""


def chunk_tokens(payload: FilePayload) -> dict[str, str]:
    """Chunk text -> FTS body tokens of a payload, for the next payload_from_parsed."""
    return {row[4]: row[7] for row in payload.chunks}


def vector_id(path: str, text: str, seen: set[int]) -> int:
    """Content-addressed chunk id for the vector store: unchanged chunks keep their vector.
    A signed 64-bit integer (8 bytes in the catalog and its index, not 20 hex characters);
    the store holds it as its decimal string. A repeated text in one file gets the hash of
    its occurrence number too."""
    vid, n = _content_id(path, text, 1), 1
    while vid in seen:
        n += 1
        vid = _content_id(path, text, n)
    seen.add(vid)
    return vid


@lru_cache(maxsize=1024)
def _content_id(path: str, text: str, n: int) -> int:
    """The hash behind vector_id (memoised: an edited open document repeats most chunks)."""
    data = f"{path}\0{text}" if n == 1 else f"{path}\0{text}\0{n}"
    digest = hashlib.blake2b(data.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@lru_cache(maxsize=4096)
def _names_tokens(names: tuple[str, ...]) -> str:
    """fts_text_of(names), memoised for the same reason."""
    return fts_text_of(names)


def payload_from_parsed(
    parsed: ParsedFile,
    *,
    size: int,
    mtime_ns: int,
    content_hash: str,
    text: str,
    known_tokens: dict[str, str] | None = None,
    text_level: int = TEXT_LEVEL,
) -> FilePayload:
    """Rows for a parsed file: compact references, per-chunk symbol tokens, FTS text.

    `known_tokens` maps chunk text -> its FTS body tokens from the previous version of the
    same document (chunk_tokens of the last payload): an edit then tokenizes only the
    chunks whose text changed, the rest of the file costs a dict lookup per chunk.
    `text_level` is the zlib level of the stored whole text (low for editor buffers).
    """
    known = known_tokens if known_tokens is not None else {}
    path = parsed.path
    symbols: list[SymbolRow] = [
        (
            s.name,
            s.qualified_name,
            s.kind,
            s.start_line,
            s.end_line,
            s.start_col,
            s.signature[:500],
            s.docstring[:MAX_DOCSTRING],
            s.parent,
        )
        for s in parsed.symbols
    ]
    # The parser already keeps one reference per (name, kind) with a count; merge any
    # repeats defensively (the catalog's key is file, name, kind).
    grouped: dict[tuple[str, str], int] = {}
    for ref in parsed.references:
        grouped[(ref.name, ref.kind)] = grouped.get((ref.name, ref.kind), 0) + ref.count
    refs: list[RefRow] = [(name, kind, count) for (name, kind), count in grouped.items()]
    # Symbols sorted by start line, so each chunk finds the names it defines by bisection.
    starts = sorted((s.start_line, s.name) for s in parsed.symbols)
    start_lines = [line for line, _ in starts]
    seen: set[int] = set()
    chunks: list[ChunkRow] = []
    for chunk in parsed.chunks:
        lo = bisect_right(start_lines, chunk.start_line - 1)
        hi = bisect_right(start_lines, chunk.end_line)
        names = [name for _, name in starts[lo:hi]]
        if chunk.symbol:
            names.append(chunk.symbol)
        body = known.get(chunk.text)
        if body is None:
            body = fts_text(chunk.text)
        chunks.append(
            (
                chunk.start_line,
                chunk.end_line,
                chunk.symbol,
                chunk.kind,
                chunk.text,
                vector_id(path, chunk.text, seen),
                _names_tokens(tuple(names)),
                body,
                body.count(" ") + 1 if body else 0,
            )
        )
    lines = split_lines(text)
    by_lines = all(c.text == "\n".join(lines[c.start_line - 1 : c.end_line]) for c in parsed.chunks)
    text_blob = pack_text(text, text_level) if by_lines and parsed.chunks else None
    if text_blob is not None and text_level == EDIT_TEXT_LEVEL:
        remember_file_lines(text_blob, lines)
    return FilePayload(
        path=path,
        size=size,
        mtime_ns=mtime_ns,
        hash=content_hash,
        language=parsed.language,
        has_errors=parsed.has_errors,
        is_test=is_test_path(path),
        lines=text.count("\n") + 1 if text else 0,
        symbols=symbols,
        refs=refs,
        imports=list(dict.fromkeys(parsed.imports)),
        chunks=chunks,
        text_blob=text_blob,
    )
