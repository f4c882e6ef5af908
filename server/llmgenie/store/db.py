"""The agent store's SQLite schema, how a connection is opened, and moving a store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

# Portable DDL: the same statements run on PostgreSQL (the team server's store).
SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY,
        ts TEXT NOT NULL,
        run_id TEXT,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        data TEXT NOT NULL,
        prev_hash CHAR(64) NOT NULL,
        hash CHAR(64) NOT NULL UNIQUE
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_log_run ON audit_log (run_id)",
    """
    CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        crew TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        owner_pid BIGINT,
        record TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at)",
)

# SQLite-only defence in depth: refuse in-place edits of the audit log. The hash chain is
# what proves integrity (a guard can be dropped); these only stop accidents.
SQLITE_GUARDS = (
    """
    CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store: WAL, a busy timeout for concurrent processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    for statement in (*SCHEMA, *SQLITE_GUARDS):
        conn.execute(statement)
    return conn


def move_store(old: Path, new: Path) -> bool:
    """Move an SQLite store (with its WAL) from `old` to `new` if `new` does not exist yet.

    Uses SQLite's online backup, so a store another process still has open (its WAL not yet
    checkpointed) moves whole; the old files are removed only after the copy is complete.
    Returns True if a store was moved.
    """
    if new.exists() or not old.exists():
        return False
    new.parent.mkdir(parents=True, exist_ok=True)
    partial = new.with_name(new.name + ".moving")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(old, timeout=10.0)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    partial.replace(new)
    for suffix in ("", "-wal", "-shm"):
        old.with_name(old.name + suffix).unlink(missing_ok=True)
    _log.warning("agent_store_moved", old=str(old), new=str(new))
    return True
