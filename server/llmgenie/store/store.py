"""AgentStore: one workspace's run records and audit log, behind one connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.locations import ensure_dir, locations_for
from llmgenie.store.audit import AuditLog
from llmgenie.store.db import connect, move_store
from llmgenie.store.runs import RunStore


class AgentStore:
    """Opens the workspace's store; `runs` and `audit` share its connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection = connect(path)
        lock = threading.RLock()  # one connection: runs and audit take turns on it
        self.runs = RunStore(self._conn, lock)
        self.audit = AuditLog(self._conn, lock)

    @classmethod
    def for_workspace(cls, root: Path, settings: Settings) -> AgentStore:
        """The workspace's store in the data directory, moved there first from the index
        directory where releases before 0.2 kept it."""
        where = locations_for(root, settings)
        ensure_dir(where.agent_dir, root)
        move_store(where.legacy_agent_store, where.agent_store)
        return cls(where.agent_store)

    @classmethod
    def existing(cls, root: Path, settings: Settings) -> AgentStore | None:
        """The workspace's store if it has one (a legacy one is moved first); never creates."""
        where = locations_for(root, settings)
        if where.agent_store.exists() or where.legacy_agent_store.exists():
            return cls.for_workspace(root, settings)
        return None

    def close(self) -> None:
        self._conn.close()
