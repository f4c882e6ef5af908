"""The ledger: teams and members, runs and their events, and each team's audit chain.

PostgreSQL is the system of record: a run row is committed before a submit answers, and
its state never depends on a socket. Every write of a run is fenced by its attempt
number: a writer whose attempt is no longer the run's current one changes nothing (so a
run ends exactly once, whoever was holding it). Events get per-run sequence numbers from
the run row itself, in the same transaction, so they are dense and ordered.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from llmgenie.contracts.runs import RunEvent, RunRequest, RunResult, RunStatus
from llmgenie.contracts.team import AuditEntry, AuditReport, Member, SequencedEvent, TeamRun
from llmgenie.remote.auth import hash_password
from llmgenie.remote.db import (
    AuditRow,
    Database,
    Membership,
    RunEventRow,
    RunRow,
    Team,
    Token,
    User,
)
from llmgenie.store.audit import GENESIS_HASH, canonical_json, row_hash

AuditItem = tuple[str, dict[str, Any], str]
"""(action, data, actor): an audit entry a run's attempt collected, written when it ends."""

TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class NotFound(LookupError):
    """No such run, team or user (or not visible to the caller)."""


class StaleAttempt(RuntimeError):
    """A write by an attempt that no longer holds the run; nothing was written."""


class Held(StaleAttempt):
    """Another worker holds the run's lease (a duplicate delivery): leave it alone."""


def _run(row: RunRow) -> TeamRun:
    return TeamRun(
        run_id=row.id,
        team_id=row.team_id,
        user_id=row.user_id,
        crew=row.crew,
        status=RunStatus(row.status),
        request=RunRequest.model_validate(row.request),
        result=RunResult.model_validate(row.result) if row.result else None,
        error=row.error,
        cancel_requested=bool(row.cancel_requested),
        trace_id=_trace_id(row.context),
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seq=row.last_seq,
    )


def _trace_id(context: dict[str, Any] | None) -> str | None:
    """The trace id in a run's W3C traceparent (version-traceid-spanid-flags)."""
    parent = str(((context or {}).get("trace") or {}).get("traceparent", ""))
    parts = parent.split("-")
    return parts[1] if len(parts) == 4 and parts[1].strip("0") else None


def _event(row: RunEventRow) -> SequencedEvent:
    return SequencedEvent(
        run_id=row.run_id,
        seq=row.seq,
        kind=row.kind,
        message=row.message,
        data=row.data,
        at=row.at,
    )


class Ledger:
    """All reads and writes of the team server's records."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite (--dev) serialises writers itself but fails instead of waiting when a read
        # transaction upgrades to a write; one process-wide lock avoids that for the audit.
        self._sqlite_lock = threading.Lock() if not db.is_postgres else None

    # -- teams and members ------------------------------------------------------------------

    def create_team(self, name: str) -> str:
        team_id = uuid.uuid4().hex
        with self.db.session() as s:
            s.add(Team(id=team_id, name=name))
        return team_id

    def team_by_name(self, name: str) -> str | None:
        with self.db.read() as s:
            return s.scalar(select(Team.id).where(Team.name == name))

    def ensure_user(self, email: str, name: str = "", password: str | None = None) -> str:
        """The user with `email` (created if new; a given password is set)."""
        email = email.strip().lower()
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(id=uuid.uuid4().hex, email=email, name=name)
                s.add(user)
            if password is not None:
                user.password_hash = hash_password(password)
            return user.id

    def set_member(self, team_id: str, user_id: str, role: str) -> None:
        with self.db.session() as s:
            member = s.get(Membership, (user_id, team_id))
            if member is None:
                s.add(Membership(user_id=user_id, team_id=team_id, role=role))
            else:
                member.role = role

    def remove_member(self, team_id: str, user_id: str) -> bool:
        with self.db.session() as s:
            result = s.execute(
                delete(Membership).where(
                    Membership.team_id == team_id, Membership.user_id == user_id
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def role_of(self, user_id: str, team_id: str) -> str | None:
        with self.db.read() as s:
            member = s.get(Membership, (user_id, team_id))
            return None if member is None else member.role

    def teams_of(self, user_id: str) -> list[tuple[str, str, str]]:
        """(team id, team name, role) of every team the user belongs to."""
        with self.db.read() as s:
            rows = s.execute(
                select(Team.id, Team.name, Membership.role)
                .join(Membership, Membership.team_id == Team.id)
                .where(Membership.user_id == user_id)
                .order_by(Team.name)
            ).all()
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def members(self, team_id: str) -> list[Member]:
        with self.db.read() as s:
            rows = s.execute(
                select(User.id, User.email, User.name, Membership.role)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.team_id == team_id)
                .order_by(User.email)
            ).all()
        return [Member(user_id=a, email=b, name=c, role=d) for a, b, c, d in rows]

    def tokens_of(self, user_id: str) -> list[Token]:
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(Token)
                    .where(Token.user_id == user_id, Token.kind == "pat")
                    .order_by(Token.created_at)
                )
            )

    # -- runs -------------------------------------------------------------------------------

    def submit(
        self,
        team_id: str,
        user_id: str,
        request: RunRequest,
        context: dict[str, Any] | None,
        idempotency_key: str | None,
    ) -> tuple[TeamRun, bool]:
        """Record a queued run (committed before this returns). The same idempotency key
        from the same user in the same team returns the existing run (created False)."""
        if idempotency_key:
            existing = self._by_key(team_id, user_id, idempotency_key)
            if existing is not None:
                return existing, False
        row = RunRow(
            id=request.run_id,
            team_id=team_id,
            user_id=user_id,
            crew=request.crew,
            status=RunStatus.QUEUED.value,
            idempotency_key=idempotency_key or None,
            request=request.model_dump(mode="json"),
            context=context,
            attempt=0,
            cancel_requested=False,
            last_seq=0,
        )
        try:
            with self.db.session() as s:
                s.add(row)
        except IntegrityError:
            # The same key raced us: the other submit won; answer with its run.
            existing = self._by_key(team_id, user_id, idempotency_key or "")
            if existing is None:
                raise
            return existing, False
        self.audit(
            team_id,
            "run_started",
            {"crew": request.crew, "path": request.path, "prompt_chars": len(request.prompt)},
            actor=user_id,
            run_id=request.run_id,
        )
        return self.get(team_id, request.run_id), True

    def _by_key(self, team_id: str, user_id: str, key: str) -> TeamRun | None:
        with self.db.read() as s:
            row = s.scalar(
                select(RunRow).where(
                    RunRow.team_id == team_id,
                    RunRow.user_id == user_id,
                    RunRow.idempotency_key == key,
                )
            )
            return None if row is None else _run(row)

    def get(self, team_id: str, run_id: str) -> TeamRun:
        """A run of `team_id` (NotFound for other teams' runs: their existence is private)."""
        with self.db.read() as s:
            row = s.get(RunRow, run_id)
            if row is None or row.team_id != team_id:
                raise NotFound(f"no run {run_id} in this team")
            return _run(row)

    # -- reads for a caller, in one transaction each (the hot paths of the API) -------------

    def visible_run(
        self, user_id: str, run_id: str, team_id: str | None = None
    ) -> tuple[TeamRun, str]:
        """A run in a team the user belongs to, and their role there (NotFound otherwise:
        another team's run is not even said to exist)."""
        with self.db.read() as s:
            row = s.execute(
                select(RunRow, Membership.role)
                .join(
                    Membership,
                    (Membership.team_id == RunRow.team_id) & (Membership.user_id == user_id),
                )
                .where(RunRow.id == run_id)
            ).first()
            if row is None or (team_id is not None and row[0].team_id != team_id):
                raise NotFound(f"no run {run_id} in your teams")
            return _run(row[0]), str(row[1])

    def visible_runs(
        self, user_id: str, team_id: str | None, limit: int
    ) -> tuple[str, list[TeamRun]]:
        """(the user's role, the team's runs newest first); without a team id, the user's
        only team (NotFound when they belong to none or several)."""
        with self.db.read() as s:
            memberships = s.execute(
                select(Membership.team_id, Membership.role).where(Membership.user_id == user_id)
            ).all()
            roles = {str(t): str(r) for t, r in memberships}
            if team_id is None:
                if len(roles) != 1:
                    raise NotFound(f"name the team: this user belongs to {len(roles)} teams")
                team_id = next(iter(roles))
            if team_id not in roles:
                raise NotFound(f"no team {team_id} for this user")
            rows = s.scalars(
                select(RunRow)
                .where(RunRow.team_id == team_id)
                .order_by(RunRow.created_at.desc())
                .limit(limit)
            )
            return roles[team_id], [_run(r) for r in rows]

    def visible_events(
        self, user_id: str, run_id: str, after: int, team_id: str | None = None
    ) -> tuple[TeamRun, str, list[SequencedEvent]]:
        """visible_run plus the run's events after `after`, from the same snapshot."""
        with self.db.read() as s:
            row = s.execute(
                select(RunRow, Membership.role)
                .join(
                    Membership,
                    (Membership.team_id == RunRow.team_id) & (Membership.user_id == user_id),
                )
                .where(RunRow.id == run_id)
            ).first()
            if row is None or (team_id is not None and row[0].team_id != team_id):
                raise NotFound(f"no run {run_id} in your teams")
            events = s.scalars(
                select(RunEventRow)
                .where(RunEventRow.run_id == run_id, RunEventRow.seq > after)
                .order_by(RunEventRow.seq)
                .limit(1000)
            )
            return _run(row[0]), str(row[1]), [_event(e) for e in events]

    def team_of_run(self, run_id: str) -> str | None:
        with self.db.read() as s:
            return s.scalar(select(RunRow.team_id).where(RunRow.id == run_id))

    def context_of(self, run_id: str) -> dict[str, Any] | None:
        with self.db.read() as s:
            return s.scalar(select(RunRow.context).where(RunRow.id == run_id))

    def referenced_blobs(self) -> set[str]:
        """Every blob digest a run's context bundle still refers to."""
        with self.db.read() as s:
            contexts = s.scalars(select(RunRow.context).where(RunRow.context.is_not(None)))
            return {d for c in contexts for d in (c or {}).get("bundle", {}).values()}

    def runs(self, team_id: str, user_id: str | None = None, limit: int = 50) -> list[TeamRun]:
        with self.db.read() as s:
            query = select(RunRow).where(RunRow.team_id == team_id)
            if user_id is not None:
                query = query.where(RunRow.user_id == user_id)
            rows = s.scalars(query.order_by(RunRow.created_at.desc()).limit(limit))
            return [_run(r) for r in rows]

    def claim(self, run_id: str, owner: str = "server", lease_s: float = 30.0) -> int:
        """Take the run for `owner` with a lease of `lease_s` seconds; returns the new
        attempt number. StaleAttempt if the run already ended, Held if another worker's
        lease on it is still valid (the broker delivered it twice)."""
        now = time.time()
        with self.db.session() as s:
            row = s.get(RunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFound(run_id)
            if RunStatus(row.status) in TERMINAL:
                raise StaleAttempt(f"run {run_id} already ended ({row.status})")
            if (
                row.status == RunStatus.RUNNING.value
                and row.lease_expires_at is not None
                and row.lease_expires_at > now
            ):
                raise Held(f"run {run_id} is held by {row.lease_owner}")
            row.attempt += 1
            row.status = RunStatus.RUNNING.value
            row.lease_owner = owner
            row.lease_expires_at = now + lease_s
            row.updated_at = now
            return row.attempt

    def heartbeat(self, run_id: str, attempt: int, lease_s: float) -> bool:
        """Extend the lease of the holding attempt; False once it no longer holds it."""
        with self.db.session() as s:
            done = s.execute(
                update(RunRow)
                .where(
                    RunRow.id == run_id,
                    RunRow.attempt == attempt,
                    RunRow.status == RunStatus.RUNNING.value,
                )
                .values(lease_expires_at=time.time() + lease_s)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def release(self, run_id: str, attempt: int) -> bool:
        """Give a run back (a worker shutting down mid-run): queued again, at once."""
        with self.db.session() as s:
            done = s.execute(
                update(RunRow)
                .where(
                    RunRow.id == run_id,
                    RunRow.attempt == attempt,
                    RunRow.status == RunStatus.RUNNING.value,
                )
                .values(
                    status=RunStatus.QUEUED.value,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=time.time(),
                )
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def reap(self, stale_queued_s: float) -> tuple[list[str], list[str]]:
        """(runs whose lease expired — now queued again, runs queued for longer than
        `stale_queued_s` — their doorbell may have been lost): both are to be enqueued
        again. Re-enqueueing is always safe: a claim is atomic and fenced."""
        now = time.time()
        with self.db.session() as s:
            expired = list(
                s.execute(
                    select(RunRow.id, RunRow.team_id, RunRow.attempt, RunRow.lease_owner)
                    .where(
                        RunRow.status == RunStatus.RUNNING.value,
                        RunRow.lease_expires_at < now,
                    )
                    .with_for_update(skip_locked=True)
                ).all()
            )
            for run_id, _team, attempt, _owner in expired:
                s.execute(
                    update(RunRow)
                    .where(RunRow.id == run_id, RunRow.attempt == attempt)
                    .values(status=RunStatus.QUEUED.value, lease_owner=None, lease_expires_at=None)
                )
            stale = list(
                s.scalars(
                    select(RunRow.id).where(
                        RunRow.status == RunStatus.QUEUED.value,
                        func.coalesce(RunRow.rung_at, RunRow.updated_at) < now - stale_queued_s,
                    )
                )
            )
            if stale:  # rung again now: not again before another stale period
                s.execute(update(RunRow).where(RunRow.id.in_(stale)).values(rung_at=now))
        for run_id, team_id, attempt, owner in expired:
            self.audit(
                team_id,
                "lease_expired",
                {"attempt": attempt, "worker": owner},
                run_id=run_id,
            )
        return [r[0] for r in expired], [r for r in stale if r not in {e[0] for e in expired}]

    def waiting(self, older_than_s: float, limit: int) -> list[str]:
        """Runs queued (or handed back) for longer than `older_than_s`, oldest first: a
        worker with a free slot takes them even if their doorbell never reached it."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(RunRow.id)
                    .where(
                        RunRow.status == RunStatus.QUEUED.value,
                        RunRow.updated_at < time.time() - older_than_s,
                    )
                    .order_by(RunRow.created_at)
                    .limit(limit)
                )
            )

    def leases(self) -> dict[str, int]:
        """Counts for `llmgenie team status` and the metrics: queued, running, expired."""
        now = time.time()
        with self.db.read() as s:
            queued = s.scalar(select(func.count()).where(RunRow.status == RunStatus.QUEUED.value))
            running = s.scalar(select(func.count()).where(RunRow.status == RunStatus.RUNNING.value))
            expired = s.scalar(
                select(func.count()).where(
                    RunRow.status == RunStatus.RUNNING.value, RunRow.lease_expires_at < now
                )
            )
        return {
            "queued": int(queued or 0),
            "running": int(running or 0),
            "expired": int(expired or 0),
        }

    def append_event(self, run_id: str, attempt: int, event: RunEvent) -> SequencedEvent:
        """Append an event with the run's next sequence number (fenced by `attempt`)."""
        with self.db.session() as s:
            seq = s.scalar(
                update(RunRow)
                .where(
                    RunRow.id == run_id,
                    RunRow.attempt == attempt,
                    RunRow.status == RunStatus.RUNNING.value,
                )
                .values(last_seq=RunRow.last_seq + 1, updated_at=time.time())
                .returning(RunRow.last_seq)
            )
            if seq is None:
                raise StaleAttempt(f"attempt {attempt} no longer holds run {run_id}")
            row = RunEventRow(
                run_id=run_id,
                seq=int(seq),
                kind=event.kind,
                message=event.message,
                data=json.loads(json.dumps(event.data, default=str)),
                at=event.at,
            )
            s.add(row)
            return _event(row)

    def finish(
        self,
        run_id: str,
        attempt: int,
        status: RunStatus,
        result: RunResult | None,
        error: str | None,
        final: RunEvent,
        audit: Sequence[AuditItem] = (),
    ) -> bool:
        """End the run once, in one transaction with its last event and audit entries
        ((action, data, actor) the attempt collected, then `run_finished`): only the
        holding attempt of a run that has not ended can (False otherwise, and nothing is
        written), so a run's side effects are recorded exactly once."""
        with self._chain_lock(), self.db.session() as s:
            seq = s.scalar(
                update(RunRow)
                .where(
                    RunRow.id == run_id,
                    RunRow.attempt == attempt,
                    RunRow.status == RunStatus.RUNNING.value,
                )
                .values(
                    status=status.value,
                    result=result.model_dump(mode="json") if result else None,
                    error=error,
                    last_seq=RunRow.last_seq + 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=time.time(),
                )
                .returning(RunRow.last_seq)
            )
            if seq is None:
                return False
            s.add(
                RunEventRow(
                    run_id=run_id,
                    seq=int(seq),
                    kind=final.kind,
                    message=final.message,
                    data=json.loads(json.dumps(final.data, default=str)),
                    at=final.at,
                )
            )
            team_id = s.scalar(select(RunRow.team_id).where(RunRow.id == run_id))
            assert team_id is not None
            summary = {
                "status": status.value,
                "error": error,
                "model": result.model if result else None,
                "tokens": result.tokens if result else 0,
                "cost_usd": result.cost_usd if result else 0.0,
                "edits": len(result.edits) if result else 0,
                "findings": len(result.findings) if result else 0,
            }
            entries = [*audit, ("run_finished", summary, "llmgenie")]
            self._append_in(s, team_id, entries, run_id)
        return True

    def request_cancel(self, team_id: str, run_id: str) -> TeamRun:
        """Mark a run cancelled-on-request (its worker stops it within seconds); a queued
        run ends at once, cancelled, with its last event and audit entry."""
        with self._chain_lock(), self.db.session() as s:
            row = s.get(RunRow, run_id, with_for_update=True)
            if row is None or row.team_id != team_id:
                raise NotFound(f"no run {run_id} in this team")
            if RunStatus(row.status) not in TERMINAL:
                row.cancel_requested = True
                row.updated_at = time.time()
            if row.status == RunStatus.QUEUED.value:
                row.status = RunStatus.CANCELLED.value
                row.error = "cancelled"
                row.last_seq += 1
                s.add(
                    RunEventRow(
                        run_id=run_id,
                        seq=row.last_seq,
                        kind="error",
                        message="cancelled before a worker started it",
                        data={"status": RunStatus.CANCELLED.value},
                        at=time.time(),
                    )
                )
                summary = {"status": RunStatus.CANCELLED.value, "error": "cancelled"}
                self._append_in(s, team_id, [("run_finished", summary, "llmgenie")], run_id)
        return self.get(team_id, run_id)

    def status_of(self, run_id: str) -> RunStatus | None:
        with self.db.read() as s:
            status = s.scalar(select(RunRow.status).where(RunRow.id == run_id))
        return RunStatus(status) if status is not None else None

    def cancel_requested(self, run_id: str) -> bool:
        with self.db.read() as s:
            return bool(s.scalar(select(RunRow.cancel_requested).where(RunRow.id == run_id)))

    def events_after(self, run_id: str, after: int, limit: int = 1000) -> list[SequencedEvent]:
        with self.db.read() as s:
            rows = s.scalars(
                select(RunEventRow)
                .where(RunEventRow.run_id == run_id, RunEventRow.seq > after)
                .order_by(RunEventRow.seq)
                .limit(limit)
            )
            return [_event(r) for r in rows]

    def purge_payloads(self, older_than_s: float) -> int:
        """Retention: drop prompts, contexts, events and results of runs ended long ago
        (the run row, its status and the audit chain stay)."""
        cutoff = time.time() - older_than_s
        purged = 0
        with self.db.session() as s:
            rows = s.scalars(
                select(RunRow).where(
                    RunRow.updated_at < cutoff, RunRow.status.in_([t.value for t in TERMINAL])
                )
            )
            for row in rows:
                if row.context is None and row.result is None and not row.request.get("prompt"):
                    continue  # purged before
                s.execute(delete(RunEventRow).where(RunEventRow.run_id == row.id))
                row.request = {**row.request, "prompt": "", "diagnostic": None}
                row.context = None
                row.result = None
                purged += 1
        return purged

    # -- users' data ------------------------------------------------------------------------

    def export_user(self, team_id: str, user_id: str) -> dict[str, Any]:
        """Everything stored about a user in this team (tokens without their secrets)."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or s.get(Membership, (user_id, team_id)) is None:
                raise NotFound(f"no user {user_id} in this team")
            profile = {"user_id": user.id, "email": user.email, "name": user.name}
        runs = self.runs(team_id, user_id, limit=100_000)
        return {
            "user": profile,
            "role": self.role_of(user_id, team_id),
            "tokens": [
                {"token_id": t.id, "name": t.name, "created_at": t.created_at}
                for t in self.tokens_of(user_id)
            ],
            "runs": [
                {
                    **run.model_dump(mode="json"),
                    "events": [
                        e.model_dump(mode="json")
                        for e in self.events_after(run.run_id, 0, limit=100_000)
                    ],
                }
                for run in runs
            ],
            "audit": [
                a.model_dump(mode="json")
                for a in self.audit_records(team_id)
                if a.actor == user_id or a.run_id in {r.run_id for r in runs}
            ],
        }

    def erase_user(self, team_id: str, user_id: str, by: str) -> dict[str, int]:
        """Erase a user's runs, events, results and tokens; the audit chain keeps its
        records and gains a tombstone naming what was erased (no gap in the chain)."""
        with self.db.session() as s:
            if s.get(Membership, (user_id, team_id)) is None:
                raise NotFound(f"no user {user_id} in this team")
            run_ids = list(
                s.scalars(
                    select(RunRow.id).where(RunRow.team_id == team_id, RunRow.user_id == user_id)
                )
            )
            events = 0
            if run_ids:
                events = int(
                    s.scalar(
                        select(func.count())
                        .select_from(RunEventRow)
                        .where(RunEventRow.run_id.in_(run_ids))
                    )
                    or 0
                )
                s.execute(delete(RunEventRow).where(RunEventRow.run_id.in_(run_ids)))
                s.execute(delete(RunRow).where(RunRow.id.in_(run_ids)))
            tokens = s.execute(delete(Token).where(Token.user_id == user_id)).rowcount  # type: ignore[attr-defined]
            s.execute(
                delete(Membership).where(
                    Membership.user_id == user_id, Membership.team_id == team_id
                )
            )
            if not s.scalar(select(func.count()).where(Membership.user_id == user_id)):
                user = s.get(User, user_id)
                if user is not None:
                    user.disabled = True
                    user.email = f"erased-{user_id}@invalid"
                    user.name = ""
                    user.password_hash = None
        counts = {"runs": len(run_ids), "events": events, "tokens": int(tokens or 0)}
        self.audit(team_id, "user_erased", {"user_id": user_id, **counts}, actor=by)
        return counts

    # -- audit chain ------------------------------------------------------------------------

    def audit(
        self,
        team_id: str,
        action: str,
        data: dict[str, Any],
        *,
        actor: str = "llmgenie",
        run_id: str | None = None,
    ) -> None:
        """Append to the team's chain (serialised per team by locking its row)."""
        with self._chain_lock(), self.db.session() as s:
            self._append_in(s, team_id, [(action, data, actor)], run_id)

    def _chain_lock(self) -> contextlib.AbstractContextManager[object]:
        """SQLite has no row locks: one process-wide lock serialises its chain writes."""
        return self._sqlite_lock if self._sqlite_lock is not None else contextlib.nullcontext()

    def _append_in(
        self,
        s: Session,
        team_id: str,
        entries: Sequence[AuditItem],
        run_id: str | None,
    ) -> None:
        """Chain `entries` onto the team's audit log inside the caller's transaction."""
        s.execute(select(Team.id).where(Team.id == team_id).with_for_update())
        last = s.execute(
            select(AuditRow.seq, AuditRow.hash)
            .where(AuditRow.team_id == team_id)
            .order_by(AuditRow.seq.desc())
            .limit(1)
        ).first()
        seq = int(last[0]) if last else 0
        prev = str(last[1]) if last else GENESIS_HASH
        for action, data, actor in entries:
            seq += 1
            payload = canonical_json(data)
            ts = datetime.now(UTC).isoformat(timespec="microseconds")
            digest = row_hash(prev, seq, ts, run_id, actor, action, payload)
            s.add(
                AuditRow(
                    team_id=team_id,
                    seq=seq,
                    ts=ts,
                    run_id=run_id,
                    actor=actor,
                    action=action,
                    data=payload,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest

    def audit_records(self, team_id: str, run_id: str | None = None) -> list[AuditEntry]:
        with self.db.read() as s:
            query = select(AuditRow).where(AuditRow.team_id == team_id)
            if run_id is not None:
                query = query.where(AuditRow.run_id == run_id)
            rows = list(s.scalars(query.order_by(AuditRow.seq)))
        return [
            AuditEntry(
                seq=r.seq,
                ts=r.ts,
                run_id=r.run_id,
                actor=r.actor,
                action=r.action,
                data=_loads(r.data),
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]

    def verify(self, team_id: str) -> AuditReport:
        """Recompute the team's chain; the first record whose content or link is wrong."""
        expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
        with self.db.read() as s:
            rows = list(
                s.scalars(
                    select(AuditRow).where(AuditRow.team_id == team_id).order_by(AuditRow.seq)
                )
            )
        for r in rows:
            count += 1
            problem = None
            if r.seq != expected_seq:
                problem = f"expected sequence number {expected_seq} (a record was removed)"
            elif r.prev_hash != expected_prev:
                problem = f"prev_hash does not match record {r.seq - 1}'s hash"
            elif row_hash(r.prev_hash, r.seq, r.ts, r.run_id, r.actor, r.action, r.data) != r.hash:
                problem = "content does not match its hash (the record was modified)"
            if problem is not None:
                return AuditReport(
                    ok=False,
                    records=count,
                    first_bad_seq=r.seq,
                    reason=f"record {r.seq}: {problem}",
                )
            expected_prev, expected_seq = r.hash, r.seq + 1
        return AuditReport(ok=True, records=count)


def _loads(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except json.JSONDecodeError:
        return {"unparseable": data}
    return value if isinstance(value, dict) else {"value": value}
