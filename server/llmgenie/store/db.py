"""Where a workspace's agent store lives, and how its SQLite connection is opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from llmgenie.config import Settings, cache_root
from llmgenie.index.layout import workspace_key

STORE_NAME = "agents.sqlite3"

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


def store_path(root: Path, settings: Settings, *, create: bool = True) -> Path:
    """The agent store of workspace `root`, next to its index (same per-workspace dir)."""
    directory = cache_root(settings) / "workspaces" / workspace_key(root)
    if create:
        directory.mkdir(parents=True, exist_ok=True)
    return directory / STORE_NAME


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
