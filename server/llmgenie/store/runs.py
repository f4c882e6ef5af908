"""Run records that survive restarts (the editor shows past runs and their results).

A record remembers the process that owns it; when a store is opened, runs still marked
queued/running whose owner process is gone (a crash, a kill) are marked failed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass

from llmgenie.contracts.runs import RunRecord, RunStatus
from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

INTERRUPTED_MESSAGE = "interrupted: the process running it exited before it finished"
_ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True, slots=True)
class Interrupted:
    """A run found active with its owner process gone (now marked failed)."""

    run_id: str
    status: str
    owner_pid: int | None


class RunStore:
    """CRUD over the `runs` table of one store connection (thread-safe)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.RLock()

    def save(self, record: RunRecord) -> None:
        """Insert or replace a record (owned by this process while it is active)."""
        owner = os.getpid() if record.status.value in _ACTIVE else None
        with self._lock:
            self._conn.execute(
                "INSERT INTO runs (run_id, crew, status, created_at, updated_at, owner_pid, record)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET status = excluded.status,"
                " updated_at = excluded.updated_at, owner_pid = excluded.owner_pid,"
                " record = excluded.record",
                (
                    record.run_id,
                    record.request.crew,
                    record.status.value,
                    record.created_at,
                    record.updated_at,
                    owner,
                    record.model_dump_json(),
                ),
            )

    def get(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT record FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    def recent(self, limit: int = 50) -> list[RunRecord]:
        """Most recent first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    def recover_interrupted(self) -> list[Interrupted]:
        """Mark active runs whose owner process is gone as failed; returns which."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT run_id, owner_pid, record FROM runs WHERE status IN (?, ?)", _ACTIVE
            ).fetchall()
        recovered: list[Interrupted] = []
        for run_id, owner_pid, raw in rows:
            if owner_pid is not None and owner_pid != os.getpid() and _pid_alive(int(owner_pid)):
                continue  # another live process (the editor's server) is running it
            if owner_pid == os.getpid():
                continue  # ours: the service in this process is still running it
            record = RunRecord.model_validate_json(raw)
            was = record.status.value
            record.status = RunStatus.FAILED
            record.error = INTERRUPTED_MESSAGE
            record.updated_at = time.time()
            self.save(record)
            recovered.append(Interrupted(run_id, was, owner_pid))
        if recovered:
            log.warning("runs_interrupted_recovered", runs=[r.run_id for r in recovered])
        return recovered
