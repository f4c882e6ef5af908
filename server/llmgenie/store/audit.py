"""The audit log: append-only and tamper-evident (a SHA-256 hash chain).

Each row stores `hash = sha256(prev_hash + canonical(row))`, where the canonical form is
compact, key-sorted JSON of seq, ts, run_id, actor, action and data. Editing, deleting or
reordering any row breaks the chain at that row (or the next one), which `verify_chain`
reports. Appends take a write lock (BEGIN IMMEDIATE), so several processes can share a log.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

GENESIS_HASH = "0" * 64

AuditAction = Literal[
    "run_started",
    "run_finished",
    "tool_called",
    "edit_proposed",
    "edit_applied",
    "model_used",
    "permission_denied",
]


class AuditRecord(BaseModel):
    """One row of the audit log."""

    seq: int
    ts: str
    run_id: str | None
    actor: str
    action: str
    data: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


class ChainReport(BaseModel):
    """Outcome of `verify_chain`: ok, how many rows, and the first broken one if any."""

    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept (the hash input)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(
    prev_hash: str, seq: int, ts: str, run_id: str | None, actor: str, action: str, data: str
) -> str:
    """The chain link: sha256 over the previous hash and the row's canonical form."""
    row = canonical_json(
        {"seq": seq, "ts": ts, "run_id": run_id, "actor": actor, "action": action, "data": data}
    )
    return hashlib.sha256((prev_hash + row).encode("utf-8")).hexdigest()


class AuditLog:
    """Appends to and verifies the audit_log table of one store connection."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.RLock()

    def append(
        self,
        action: str,
        data: dict[str, Any],
        *,
        actor: str = "llmgenie",
        run_id: str | None = None,
    ) -> AuditRecord:
        """Add one record at the end of the chain and return it."""
        data_json = canonical_json(data)
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                last = self._conn.execute(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq = (last[0] + 1) if last else 1
                prev = last[1] if last else GENESIS_HASH
                digest = row_hash(prev, seq, ts, run_id, actor, action, data_json)
                self._conn.execute(
                    "INSERT INTO audit_log (seq, ts, run_id, actor, action, data, prev_hash, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, ts, run_id, actor, action, data_json, prev, digest),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        log.debug("audit_appended", seq=seq, action=action, run_id=run_id)
        return AuditRecord(
            seq=seq,
            ts=ts,
            run_id=run_id,
            actor=actor,
            action=action,
            data=json.loads(data_json),
            prev_hash=prev,
            hash=digest,
        )

    def records(self, run_id: str | None = None) -> Iterator[AuditRecord]:
        """Rows in chain order (optionally only one run's)."""
        sql = "SELECT seq, ts, run_id, actor, action, data, prev_hash, hash FROM audit_log"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            params = (run_id,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", params).fetchall()
        for seq, ts, rid, actor, action, data, prev, digest in rows:
            try:
                parsed = json.loads(data)
            except json.JSONDecodeError:
                parsed = {"unparseable": data}
            yield AuditRecord(
                seq=seq,
                ts=ts,
                run_id=rid,
                actor=actor,
                action=action,
                data=parsed if isinstance(parsed, dict) else {"value": parsed},
                prev_hash=prev,
                hash=digest,
            )

    def verify_chain(self) -> ChainReport:
        """Recompute every link; report the first row whose content or link does not match."""
        expected_prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, ts, run_id, actor, action, data, prev_hash, hash FROM audit_log"
                " ORDER BY seq"
            ).fetchall()
        for seq, ts, run_id, actor, action, data, prev, digest in rows:
            count += 1
            if seq != expected_seq:
                return ChainReport(
                    ok=False,
                    records=count,
                    first_bad_seq=seq,
                    reason=f"record {seq}: expected sequence number {expected_seq} "
                    "(a record was deleted or inserted)",
                )
            if prev != expected_prev:
                return ChainReport(
                    ok=False,
                    records=count,
                    first_bad_seq=seq,
                    reason=f"record {seq}: prev_hash does not match record {seq - 1}'s hash",
                )
            if row_hash(prev, seq, ts, run_id, actor, action, data) != digest:
                return ChainReport(
                    ok=False,
                    records=count,
                    first_bad_seq=seq,
                    reason=f"record {seq} ({action}): content does not match its hash "
                    "(the record was modified)",
                )
            expected_prev = digest
            expected_seq += 1
        return ChainReport(ok=True, records=count)
