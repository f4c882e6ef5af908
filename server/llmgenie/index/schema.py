"""The catalog's SQLite schema, and opening it safely (corrupt or outdated → rebuilt).

One database per workspace, WAL mode so readers never wait for the single writer.
FTS5 columns hold pre-tokenized text (see tokens.py), so the FTS tokenizer only has to
split on spaces; `_` stays inside tokens because the whole identifier is a token too.

Size on disk (the budget: no larger than the source indexed):
- a symbol's signature and docstring are kept per file in one compressed blob
  (`symbol_docs`, `pack_docs`), and a symbol row holds its index in it (`doc`); a
  qualified name equal to the name is stored as '' and read back as the name, and the
  lowercased name (`name_key`, looked up through the index on `coalesce(name_key, name)`)
  only when it differs from the name; a reference's kind as a small integer
  (`REF_KIND_CODES`);
- a parsed file's text is stored once, zlib-compressed as a whole (`file_texts`,
  `pack_text`: about 1.7x smaller than compressing each chunk on its own), and a chunk's
  text is its lines of that text (`chunk_text`); a chunk whose text is not exactly its
  lines (never, for the parser's chunks) keeps its own compressed copy in `chunks.text`;
- the chunk FTS index is three detail=none tables (a posting is a row id, no column or
  position: half the size of one detail=column table over both columns):
    chunks_fts          any: body tokens and symbol tokens (document frequency = rows
                        with the term anywhere, as BM25F wants)
    chunks_sym_fts      symbol tokens (names the chunk defines)
    chunks_symonly_fts  symbol tokens that are not body tokens (few)
  so the rows with a term in the body are exactly `any` minus `symonly`
  (retrieval/lexical.py).
None of them keeps a copy of its text: each is an external-content table over a view that
re-derives the tokens from the stored text and symbol tokens (`fts_any`, `fts_symbol_only`,
registered on every connection); nor does the files FTS table, whose view re-derives a
file's path and defined-name tokens from `files` and `symbols` (`fts_path`, `fts_names`).
FTS5 reads those views only to remove a row (delete the FTS rows *before* their chunk row,
symbols and file row, and before the file's text is replaced) and for 'integrity-check',
so the tokens a row was inserted with must be exactly what the views yield: the insert
passes the same functions of the same stored values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from functools import lru_cache
from pathlib import Path

from llmgenie.index.tokens import any_tokens, fts_text, names_tokens, symbol_only_tokens
from llmgenie.observability.logging import get_logger

SCHEMA_VERSION = 13
_FTS_TOKENIZER = "unicode61 remove_diacritics 0 tokenchars '_'"
TEXT_LEVEL = 6  # zlib over whole files: ~5x on code; decompressing 30 MB costs ~0.2 s
EDIT_TEXT_LEVEL = 1  # an editor buffer: ~1 ms instead of ~8 on a 5,000-line file

_log = get_logger(__name__)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    language TEXT,
    state TEXT NOT NULL DEFAULT 'indexed',
    is_test INTEGER NOT NULL DEFAULT 0,
    has_errors INTEGER NOT NULL DEFAULT 0,
    lines INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT,
    qualified_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    start_col INTEGER NOT NULL,
    doc INTEGER,
    parent TEXT
);
CREATE TABLE IF NOT EXISTS symbol_docs (file_id INTEGER PRIMARY KEY, docs BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_key ON symbols(coalesce(name_key, name));
CREATE TABLE IF NOT EXISTS refs (
    name TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    kind NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (name, file_id, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_file ON refs(file_id);
CREATE TABLE IF NOT EXISTS imports (file_id INTEGER NOT NULL, module TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    symbol TEXT,
    kind TEXT NOT NULL,
    text BLOB,
    sym_tokens TEXT NOT NULL DEFAULT '',
    vec_id INTEGER NOT NULL,
    ntok INTEGER NOT NULL DEFAULT 0,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_vec ON chunks(vec_id);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded, file_id);
CREATE TABLE IF NOT EXISTS file_texts (file_id INTEGER PRIMARY KEY, text BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS vector_deletes (vec_id INTEGER PRIMARY KEY);
CREATE VIEW IF NOT EXISTS chunks_fts_source AS
    SELECT c.id AS id, fts_any(c.text, t.text, c.start_line, c.end_line, c.sym_tokens) AS any
    FROM chunks c LEFT JOIN file_texts t ON t.file_id = c.file_id;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    any, tokenize="{_FTS_TOKENIZER}", detail=none, columnsize=0,
    content='chunks_fts_source', content_rowid='id'
);
CREATE VIEW IF NOT EXISTS chunks_sym_source AS SELECT id, sym_tokens AS symbol FROM chunks;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_sym_fts USING fts5(
    symbol, tokenize="{_FTS_TOKENIZER}", detail=none, columnsize=0,
    content='chunks_sym_source', content_rowid='id'
);
CREATE VIEW IF NOT EXISTS chunks_symonly_source AS
    SELECT c.id AS id,
        fts_symbol_only(c.text, t.text, c.start_line, c.end_line, c.sym_tokens) AS symbol
    FROM chunks c LEFT JOIN file_texts t ON t.file_id = c.file_id;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_symonly_fts USING fts5(
    symbol, tokenize="{_FTS_TOKENIZER}", detail=none, columnsize=0,
    content='chunks_symonly_source', content_rowid='id'
);
CREATE VIEW IF NOT EXISTS files_fts_source AS
    SELECT f.id AS id, fts_path(f.path) AS path,
        (SELECT fts_names(name) FROM (SELECT name FROM symbols WHERE file_id = f.id ORDER BY id))
        AS symbols
    FROM files f;
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
    path, symbols, tokenize="{_FTS_TOKENIZER}", detail=column,
    content='files_fts_source', content_rowid='id'
);
"""

CHUNK_FTS_TABLES = ("chunks_fts", "chunks_sym_fts", "chunks_symonly_fts")

# BM25F column weights (symbol, body): identifiers defined in a chunk count more than words
# merely mentioned in its body; a file's path and defined names are scored on files_fts.
CHUNK_WEIGHTS = (3.0, 1.0)
FILE_WEIGHTS = (3.0, 2.0)


# A reference's kind as stored: the common ones as 0-2 (SQLite stores 0 and 1 in no bytes;
# in their alphabetical order, which the (name, file_id, kind) key sorts by), any other kind
# (a grammar's own capture name) as its text; `refs.kind` has no type.
REF_KIND_CODES = {"call": 0, "import": 1, "type": 2}
REF_KIND_NAMES = {code: kind for kind, code in REF_KIND_CODES.items()}


def ref_kind_code(kind: str) -> int | str:
    return REF_KIND_CODES.get(kind, kind)


def ref_kind_name(stored: int | str) -> str:
    return REF_KIND_NAMES.get(stored, str(stored)) if isinstance(stored, int) else stored


class CatalogCorrupt(RuntimeError):
    """The catalog file cannot be used; it will be moved aside and rebuilt."""


def pack_text(text: str, level: int = TEXT_LEVEL) -> bytes:
    """A file's (or a chunk's) text as stored."""
    return zlib.compress(text.encode("utf-8", "surrogatepass"), level)


def unpack_text(stored: bytes | str) -> str:
    """A stored chunk text back as a string."""
    if isinstance(stored, str):
        return stored
    return zlib.decompress(stored).decode("utf-8", "surrogatepass")


@lru_cache(maxsize=64)
def pack_docs(docs: tuple[tuple[str, str], ...]) -> bytes:
    """A file's (signature, docstring) pairs as stored: one compressed blob per file (about
    3.5x smaller than the strings in their rows); `symbols.doc` indexes into it. Memoised:
    most edits of an open document leave them as they were."""
    return pack_text(json.dumps(docs, ensure_ascii=False, separators=(",", ":")))


def unpack_docs(stored: bytes) -> list[tuple[str, str]]:
    return [(str(sig), str(doc)) for sig, doc in json.loads(unpack_text(stored))]


def split_lines(text: str) -> list[str]:
    """A file's lines as the parser numbers them (no final empty line, no `\\r`)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


# The last few stored file texts, decoded: deleting or reading a file's chunks asks for the
# same file once per chunk. A plain tuple swapped whole, so threads never see it half-built.
_recent_files: tuple[tuple[bytes, list[str]], ...] = ()
_RECENT_FILES = 4


def _remember(stored: bytes, lines: list[str]) -> None:
    global _recent_files
    _recent_files = ((stored, lines), *_recent_files[: _RECENT_FILES - 1])


def _file_lines(stored: bytes) -> list[str]:
    """The lines of a stored file text (a recent one from the cache)."""
    for blob, lines in _recent_files:
        if blob == stored:
            return lines
    lines = split_lines(unpack_text(stored))
    _remember(stored, lines)
    return lines


def remember_file_lines(stored: bytes, lines: list[str]) -> None:
    """Prime the cache with a text about to be stored: the next edit of the same open
    document deletes its changed chunks' FTS rows by re-deriving them from it."""
    _remember(stored, lines)


def chunk_text(own: bytes | None, file_text: bytes | None, start: int, end: int) -> str:
    """A chunk's text from its row: its own copy if it has one, else lines start..end
    (1-based, inclusive) of its file's stored text."""
    if own is not None:
        return unpack_text(own)
    if file_text is None:
        return ""
    return "\n".join(_file_lines(file_text)[start - 1 : end])


def _fts_any(own: bytes | None, file_text: bytes | None, start: int, end: int, sym: str) -> str:
    return any_tokens(fts_text(chunk_text(own, file_text, start, end)), sym)


def _fts_symbol_only(
    own: bytes | None, file_text: bytes | None, start: int, end: int, sym: str
) -> str:
    if not sym:
        return ""
    return symbol_only_tokens(sym, fts_text(chunk_text(own, file_text, start, end)))


class _NamesTokens:
    """The aggregate behind files_fts_source: names_tokens of a file's symbol names."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def step(self, name: str) -> None:
        self.names.append(name)

    def finalize(self) -> str:
        return names_tokens(self.names)


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the pragmas and functions every catalog connection uses."""
    conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False, isolation_level=None)
    # Takes effect only in a new database (before WAL mode and its first table): lets
    # `release_free_pages` give pages back to the file system; a no-op otherwise.
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.create_function("fts_any", 5, _fts_any, deterministic=True)
    conn.create_function("fts_symbol_only", 5, _fts_symbol_only, deterministic=True)
    conn.create_function("fts_path", 1, fts_text, deterministic=True)
    conn.create_aggregate("fts_names", 1, _NamesTokens)  # type: ignore[arg-type]  # str, not int
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute("PRAGMA mmap_size=268435456")
    return conn


def _expected_size_ok(path: Path) -> bool:
    """Cheap truncation check: the header's page count × page size must fit in the file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    if size == 0:
        return True
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    change_counter = int.from_bytes(header[24:28], "big")
    # The in-header page count is only trustworthy when its version stamp is current.
    return not (valid_for == change_counter and pages * page_size > size)


def _check(conn: sqlite3.Connection, thorough: bool) -> None:
    try:
        if thorough:
            row = conn.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise CatalogCorrupt(f"quick_check: {row[0] if row else 'no result'}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise CatalogCorrupt(str(exc)) from exc


def _version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


def _move_aside(path: Path, reason: str) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            dst = path.with_name(f"{path.name}.corrupt-{stamp}{suffix}")
            with contextlib.suppress(OSError):
                src.replace(dst)
    _log.warning("catalog_rebuilt", path=str(path), reason=reason)


def _discard(path: Path, reason: str) -> None:
    """Delete an outdated catalog: unlike a corrupt one it tells nothing worth keeping, and
    a copy kept at each upgrade would double the index's size on disk."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    _log.info("catalog_rebuilt", path=str(path), reason=reason)


def open_catalog(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """Open (creating, or rebuilding when corrupt/outdated) the catalog at `path`.

    Returns the connection and, when the old file was discarded, why. A thorough
    `quick_check` runs only when the last session did not close cleanly or the file
    looks truncated, so opening a healthy index stays fast.
    """
    rebuilt: str | None = None
    if path.exists():
        try:
            if not _expected_size_ok(path):
                raise CatalogCorrupt("file is truncated or not an SQLite database")
            conn = connect(path)
            try:
                row = None
                with contextlib.suppress(sqlite3.OperationalError):
                    row = conn.execute("SELECT value FROM meta WHERE key='clean_close'").fetchone()
                _check(conn, thorough=row is None or row[0] != "1")
                version = _version(conn)
                if version != SCHEMA_VERSION:
                    conn.close()
                    rebuilt = f"schema version {version} != {SCHEMA_VERSION}"
                    _discard(path, rebuilt)
                else:
                    _set_meta(conn, "clean_close", "0")
                    return conn, None
            except (CatalogCorrupt, sqlite3.DatabaseError):
                conn.close()
                raise
        except (CatalogCorrupt, sqlite3.DatabaseError) as exc:
            rebuilt = str(exc) or type(exc).__name__
            _move_aside(path, rebuilt)
    conn = connect(path)
    conn.executescript(DDL)
    _set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    _set_meta(conn, "clean_close", "0")
    return conn, rebuilt


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )


def release_free_pages(conn: sqlite3.Connection) -> None:
    """Return the pages an index pass freed (rows of its first phase, replaced rows) to
    the file system instead of keeping them for later writes."""
    with contextlib.suppress(sqlite3.Error):
        conn.executescript("PRAGMA incremental_vacuum;")  # execute() frees one page only


def mark_clean_close(conn: sqlite3.Connection) -> None:
    """Record a clean shutdown so the next open can skip the thorough check."""
    with contextlib.suppress(sqlite3.Error):
        _set_meta(conn, "clean_close", "1")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
