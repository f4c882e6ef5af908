"""AgentStore: one workspace's run records and audit log, behind one connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.store.audit import AuditLog
from llmgenie.store.db import connect, store_path
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
        return cls(store_path(root, settings))

    def close(self) -> None:
        self._conn.close()
