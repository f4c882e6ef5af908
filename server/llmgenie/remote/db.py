"""The team server's system of record (SQLAlchemy 2; PostgreSQL, or SQLite in --dev).

Tables: teams, users, memberships (role per team), tokens (hashed: personal access tokens
and refresh tokens), runs (the ledger row, committed before a submit answers), run_events
(per-run sequence numbers), audit_log (one hash chain per team), repositories (the team
index's registered repositories). The schema is created and
upgraded by Alembic (remote/migrations); `llmgenie team migrate` applies it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, Pool, QueuePool

from llmgenie.observability.metrics import DB_POOL_IN_USE, DB_POOL_WAITING

_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()
DB_POOL_IN_USE.set_function(
    lambda: float(sum(p.checkedout() for p in list(_POOLS) if isinstance(p, QueuePool)))
)


class _MeteredQueuePool(QueuePool):
    """A QueuePool that counts the threads blocked on it (every connection checked out)."""

    def _do_get(self) -> ConnectionPoolEntry:
        if self._max_overflow < 0 or self.checkedout() < self.size() + self._max_overflow:
            return super()._do_get()
        DB_POOL_WAITING.inc()
        try:
            return super()._do_get()
        finally:
            DB_POOL_WAITING.dec()


def now() -> float:
    return time.time()


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))


class Token(Base):
    """A personal access token or a refresh token; only a hash of the secret is kept."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "pat" | "refresh"
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float, default=now)
    expires_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class RunRow(Base):
    """A run of a team: its request, state, result; `attempt` fences late writers."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", "idempotency_key", name="runs_idempotency"),
        Index("runs_team_created", "team_id", "created_at"),
        Index("runs_leases", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    crew: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    rung_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


class RunEventRow(Base):
    __tablename__ = "run_events"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[float] = mapped_column(Float, default=now)


class AuditRow(Base):
    """One link of a team's audit chain (the same hashing as the local audit log)."""

    __tablename__ = "audit_log"

    team_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RepositoryRow(Base):
    """A repository registered with the team index (the truth; each server's copy is a cache)."""

    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("team_id", "name", name="repositories_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))  # "git" | "path"
    source: Mapped[str] = mapped_column(String(4096))
    status: Mapped[str] = mapped_column(String(12))
    commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    files: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    indexed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Database:
    """The engine and a session factory; `session()` is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        # No pre-ping (a round trip on every checkout): stale connections are recycled.
        kwargs: dict[str, Any] = {"pool_recycle": 300}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, poolclass=_MeteredQueuePool)
        self.engine: Engine = create_engine(url, **kwargs)
        _POOLS.add(self.engine.pool)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads that need no transaction run in autocommit: one round trip per query
        # instead of three (BEGIN, the query, COMMIT).
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reads = sessionmaker(reads, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads only, each statement on its own (autocommit)."""
        with self._reads() as session:
            yield session

    def ping(self) -> None:
        """Raises if the database cannot answer (for /readyz)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
