"""AgentStore: one workspace's run records and audit log, behind one connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.locations import ensure_dir, locations_for
from llmgenie.store.anchor import AnchorFile, AnchorInvalid
from llmgenie.store.audit import AuditLog, ChainReport
from llmgenie.store.db import connect, move_store
from llmgenie.store.runs import INTERRUPTED_MESSAGE, RunStore


class AgentStore:
    """Opens the workspace's store; `runs` and `audit` share its connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection = connect(path)
        lock = threading.RLock()  # one connection: runs and audit take turns on it
        self.runs = RunStore(self._conn, lock)
        self.audit = AuditLog(self._conn, lock, AnchorFile(path))

    def recover_interrupted(self) -> list[str]:
        """Mark runs a dead process left active as failed, auditing the crash and the
        recovery of each; returns their ids."""
        interrupted = self.runs.recover_interrupted()
        for run in interrupted:
            self.audit.append(
                "run_crashed",
                {"run_id": run.run_id, "status": run.status, "owner_pid": run.owner_pid},
                run_id=run.run_id,
            )
            self.audit.append(
                "run_recovered",
                {"run_id": run.run_id, "status": "failed", "error": INTERRUPTED_MESSAGE},
                run_id=run.run_id,
            )
        return [run.run_id for run in interrupted]

    @classmethod
    def for_workspace(cls, root: Path, settings: Settings) -> AgentStore:
        """The workspace's store in the data directory, moved there first from the index
        directory where releases before 0.2 kept it."""
        where = locations_for(root, settings)
        ensure_dir(where.agent_dir, root)
        if move_store(where.legacy_agent_store, where.agent_store):
            AnchorFile(where.legacy_agent_store).move_to(AnchorFile(where.agent_store))
        return cls(where.agent_store)

    @classmethod
    def existing(cls, root: Path, settings: Settings) -> AgentStore | None:
        """The workspace's store if it has one (a legacy one is moved first); never creates."""
        where = locations_for(root, settings)
        if where.agent_store.exists() or where.legacy_agent_store.exists():
            return cls.for_workspace(root, settings)
        return None

    @classmethod
    def verify(cls, root: Path, settings: Settings) -> ChainReport:
        """Verify the workspace's audit log against its anchor, also when the store is gone
        (never creates one)."""
        store = cls.existing(root, settings)
        if store is not None:
            try:
                return store.audit.verify_chain()
            finally:
                store.close()
        anchor = AnchorFile(locations_for(root, settings).agent_store)
        if not anchor.exists():
            return ChainReport(ok=True, records=0)
        try:
            vouched = anchor.read()
        except AnchorInvalid as exc:
            return ChainReport(ok=False, records=0, reason=f"the audit store is missing; {exc}")
        count = vouched.count if vouched is not None else 0
        return ChainReport(
            ok=False,
            records=0,
            anchored=count,
            reason=f"the audit store is missing (its anchor vouches for {count} records)",
        )

    def close(self) -> None:
        self._conn.close()
