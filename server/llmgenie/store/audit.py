"""The audit log: append-only and tamper-evident (a SHA-256 hash chain).

Each row stores `hash = sha256(prev_hash + canonical(row))`, where the canonical form is
compact, key-sorted JSON of seq, ts, run_id, actor, action and data. Editing, deleting or
reordering any row breaks the chain at that row (or the next one), which `verify_chain`
reports. Appends take a write lock (BEGIN IMMEDIATE), so several processes can share a log.

The chain alone cannot show a truncated tail, a deleted log or a recomputed chain: each
append also writes the anchor (llmgenie.store.anchor), and `verify_chain` compares with it.
An anchor that does not match at append time is itself recorded (`audit_anchor_mismatch`).
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
from llmgenie.store.anchor import Anchor, AnchorFile, AnchorInvalid

log = get_logger(__name__)

GENESIS_HASH = "0" * 64

AuditAction = Literal[
    "run_started",
    "run_finished",
    "tool_called",
    "edit_proposed",
    "edit_applied",
    "answer_feedback",
    "model_used",
    "permission_denied",
    "run_crashed",
    "run_recovered",
    "audit_anchor_created",
    "audit_anchor_mismatch",
]
_ANOMALY = "audit_anchor_mismatch"


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
    anchored: int | None = Field(None, description="records the anchor vouches for")
    notes: list[str] = Field(default_factory=list, description="anchors (re)created")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


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

    def __init__(
        self,
        conn: sqlite3.Connection,
        lock: threading.RLock | None = None,
        anchor: AnchorFile | None = None,
    ) -> None:
        self._conn = conn
        self._lock = lock or threading.RLock()
        self._anchor = anchor

    def append(
        self,
        action: str,
        data: dict[str, Any],
        *,
        actor: str = "llmgenie",
        run_id: str | None = None,
    ) -> AuditRecord:
        """Add one record at the end of the chain, move the anchor, and return the record."""
        data_json = canonical_json(data)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                last = self._conn.execute(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                head = (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)
                anomaly = self._anchor_anomaly(head)
                if anomaly is not None:
                    head = self._insert(head, anomaly[0], canonical_json(anomaly[1]), _now())
                prev, ts = head[1], _now()
                head = self._insert(head, action, data_json, ts, actor=actor, run_id=run_id)
                if self._anchor is not None:
                    self._anchor.write(Anchor(count=head[0], head=head[1]))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        log.debug("audit_appended", seq=head[0], action=action, run_id=run_id)
        return AuditRecord(
            seq=head[0],
            ts=ts,
            run_id=run_id,
            actor=actor,
            action=action,
            data=json.loads(data_json),
            prev_hash=prev,
            hash=head[1],
        )

    def _insert(
        self,
        head: tuple[int, str],
        action: str,
        data_json: str,
        ts: str,
        *,
        actor: str = "llmgenie",
        run_id: str | None = None,
    ) -> tuple[int, str]:
        """Insert one row after `head` (inside the caller's transaction); the new head."""
        seq, prev = head[0] + 1, head[1]
        digest = row_hash(prev, seq, ts, run_id, actor, action, data_json)
        self._conn.execute(
            "INSERT INTO audit_log (seq, ts, run_id, actor, action, data, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, ts, run_id, actor, action, data_json, prev, digest),
        )
        return seq, digest

    def _anchor_anomaly(self, head: tuple[int, str]) -> tuple[str, dict[str, Any]] | None:
        """The record to write first when the anchor does not vouch for the current head."""
        if self._anchor is None:
            return None
        try:
            anchor = self._anchor.read()
        except AnchorInvalid as exc:
            log.warning("audit_anchor_invalid", error=str(exc))
            return _ANOMALY, {"records": head[0], "reason": str(exc)}
        if anchor is None:
            return ("audit_anchor_created", {"records": head[0]}) if head[0] else None
        if (anchor.count, anchor.head) == head:
            return None
        log.warning("audit_anchor_mismatch", anchored=anchor.count, records=head[0])
        return _ANOMALY, {
            "records": head[0],
            "anchored_records": anchor.count,
            "reason": "the log does not end where the anchor says",
        }

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
        """Recompute every link, then compare the chain's end with the anchor."""
        report, head = self._verify_links()
        if not report.ok or self._anchor is None:
            return report
        return self._verify_anchor(report, head)

    def _verify_links(self) -> tuple[ChainReport, str]:
        """Report the first row whose content or link does not match (and the head hash)."""
        expected_prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        anomaly: str | None = None
        notes: list[str] = []
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, ts, run_id, actor, action, data, prev_hash, hash FROM audit_log"
                " ORDER BY seq"
            ).fetchall()
        for seq, ts, run_id, actor, action, data, prev, digest in rows:
            count += 1
            reason = ""
            if seq != expected_seq:
                reason = (
                    f"record {seq}: expected sequence number {expected_seq} "
                    "(a record was deleted or inserted)"
                )
            elif prev != expected_prev:
                reason = f"record {seq}: prev_hash does not match record {seq - 1}'s hash"
            elif row_hash(prev, seq, ts, run_id, actor, action, data) != digest:
                reason = (
                    f"record {seq} ({action}): content does not match its hash "
                    "(the record was modified)"
                )
            if reason:
                return ChainReport(ok=False, records=count, first_bad_seq=seq, reason=reason), ""
            if action == "audit_anchor_created":
                notes.append(
                    f"record {seq}: an anchor was created for {seq - 1} unanchored records"
                    " (a log from before anchors, or its anchor was deleted)"
                )
            if action == _ANOMALY and anomaly is None:
                anomaly = f"record {seq}: the anchor did not match when it was written ({data})"
            expected_prev = digest
            expected_seq += 1
        if anomaly is not None:
            return ChainReport(ok=False, records=count, reason=anomaly, notes=notes), expected_prev
        return ChainReport(ok=True, records=count, notes=notes), expected_prev

    def _verify_anchor(self, report: ChainReport, head: str) -> ChainReport:
        assert self._anchor is not None
        try:
            anchor = self._anchor.read()
        except AnchorInvalid as exc:
            return report.model_copy(update={"ok": False, "reason": str(exc)})
        if anchor is None:
            if report.records == 0:
                return report
            reason = f"no anchor for these {report.records} records (deleted?)"
            return report.model_copy(update={"ok": False, "reason": reason})
        fail = {"ok": False, "anchored": anchor.count}
        n = report.records
        if n < anchor.count:
            missing = (
                f"all {anchor.count} records are missing"
                if n == 0
                else f"records {n + 1}..{anchor.count} are missing (the log was truncated)"
            )
            return report.model_copy(update={**fail, "first_bad_seq": n + 1, "reason": missing})
        if n > anchor.count:
            extra = f"{n - anchor.count} records after the {anchor.count} the anchor vouches for"
            return report.model_copy(
                update={**fail, "first_bad_seq": anchor.count + 1, "reason": extra}
            )
        if head != anchor.head:
            rewritten = "the chain was rewritten: its last hash is not the anchored one"
            return report.model_copy(update={**fail, "reason": rewritten})
        return report.model_copy(update={"anchored": anchor.count})
