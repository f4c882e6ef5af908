"""The team index: repositories registered with the team server for headless runs.

A repository is a git URL (cloned shallow into the server's data dir, fetched again on
every refresh) or a directory under one of the server's `repo_roots` (read in place; its
index lives in the data dir, never inside it). The `repositories` table is the truth; each
server process keeps its own indexed copy (the same context engine as an editor's) and
refreshes it in one background thread. Runs that name a repository ask this copy for
files, search, symbols and the repo map, through the same callbacks an editor answers
(relay.RepositoryPump when workers run elsewhere), every answer redacted.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from llmgenie.app.remote import answer_callback
from llmgenie.config import Settings
from llmgenie.contracts.team import GitRepository, NewRepository, TeamRepository
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.layout import layout_for
from llmgenie.observability.logging import get_logger
from llmgenie.remote.db import Database, RepositoryRow, now
from llmgenie.remote.ledger import NotFound
from llmgenie.remote.roles import Forbidden
from llmgenie.wrapper.environment import make_redactor

_log = get_logger(__name__)

GIT_TIMEOUT_S = 600.0


class RepositoryUnavailable(LookupError):
    """No index of the repository here (not yet built, failed, or removed)."""


class Conflict(Exception):
    """The request clashes with what exists (a repository name already taken)."""


def parse_source(new: NewRepository, roots: list[Path]) -> tuple[str, str]:
    """(kind, source) of a registration (the schema has checked its shape). Forbidden for a
    local directory outside the server's repo_roots; NotFound for one that does not exist."""
    if isinstance(new, GitRepository):
        if new.url.startswith("file://"):
            _inside_roots(unquote(new.url.removeprefix("file://")), roots)
        return "git", new.url
    return "path", str(_inside_roots(new.path, roots))


def _inside_roots(path: str, roots: list[Path]) -> Path:
    """`path` resolved, if it is a directory under one of the server's repo_roots."""
    if not roots:
        raise Forbidden("local repositories are off on this server (it has no repo_roots)")
    resolved = Path(os.path.realpath(path))
    if not any(resolved.is_relative_to(os.path.realpath(root)) for root in roots):
        raise Forbidden("the path is outside the server's repo_roots")
    if not resolved.is_dir():
        raise NotFound(f"no such directory on the server: {path}")
    return resolved


def _repository(row: RepositoryRow) -> TeamRepository:
    return TeamRepository(
        repository_id=row.id,
        team_id=row.team_id,
        name=row.name,
        source=row.source,
        kind="git" if row.kind == "git" else "path",
        status=row.status,
        commit=row.commit,
        files=row.files,
        error=row.error,
        created_at=row.created_at,
        indexed_at=row.indexed_at,
    )


class RepositoryStore:
    """The `repositories` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, team_id: str, name: str, kind: str, source: str) -> TeamRepository:
        row = RepositoryRow(
            id=uuid.uuid4().hex,
            team_id=team_id,
            name=name,
            kind=kind,
            source=source,
            status="pending",
            files=0,
        )
        try:
            with self.db.session() as s:
                s.add(row)
        except IntegrityError as exc:
            raise Conflict(f"the team already has a repository named {name}") from exc
        return _repository(row)

    def of_team(self, team_id: str) -> list[TeamRepository]:
        with self.db.read() as s:
            rows = s.scalars(
                select(RepositoryRow)
                .where(RepositoryRow.team_id == team_id)
                .order_by(RepositoryRow.name)
            )
            return [_repository(r) for r in rows]

    def named(self, team_id: str, name: str) -> TeamRepository:
        with self.db.read() as s:
            row = s.scalar(
                select(RepositoryRow).where(
                    RepositoryRow.team_id == team_id, RepositoryRow.name == name
                )
            )
            if row is None:
                raise NotFound(f"no repository {name} in this team")
            return _repository(row)

    def get(self, repository_id: str) -> TeamRepository | None:
        with self.db.read() as s:
            row = s.get(RepositoryRow, repository_id)
            return None if row is None else _repository(row)

    def ids(self) -> list[str]:
        """Every registered repository, of every team (what a server keeps indexed)."""
        with self.db.read() as s:
            return list(s.scalars(select(RepositoryRow.id).order_by(RepositoryRow.created_at)))

    def remove(self, repository_id: str) -> None:
        with self.db.session() as s:
            s.execute(delete(RepositoryRow).where(RepositoryRow.id == repository_id))

    def mark(self, repository_id: str, status: str, **fields: Any) -> None:
        with self.db.session() as s:
            row = s.get(RepositoryRow, repository_id)
            if row is None:
                return
            row.status = status
            for key, value in fields.items():
                setattr(row, key, value)


def _git(args: list[str], cwd: Path | None = None) -> str:
    """Run git without a terminal or credential prompt; RuntimeError with its message."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
    }
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"git {args[0]}: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]}: {done.stderr.strip()[-500:] or done.returncode}")
    return done.stdout.strip()


def head_commit(root: Path) -> str | None:
    """The commit checked out at `root`, or None when it is not a git work tree."""
    try:
        return _git(["rev-parse", "--verify", "HEAD"], cwd=root) or None
    except RuntimeError:
        return None


class TeamIndex:
    """This server's indexed copies of the registered repositories."""

    def __init__(
        self,
        store: RepositoryStore,
        settings: Settings,
        data_dir: Path,
        roots: list[Path],
        refresh_s: float,
    ) -> None:
        self.store = store
        self.settings = settings
        self.roots = roots
        self.refresh_s = refresh_s
        self._dir = data_dir / "repos"
        self._engines: dict[str, tuple[WorkspaceEngine, str | None]] = {}
        self._lock = threading.Lock()
        self._wake: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="llmgenie-team-index")

    def start(self) -> None:
        """Index every registered repository now, then keep them fresh."""
        self._thread.start()

    def request(self, repository_id: str) -> None:
        """Sync this repository soon (registered, refreshed or removed)."""
        self._wake.put(repository_id)

    def ready(self) -> list[str]:
        """The repositories this server can answer for."""
        with self._lock:
            return list(self._engines)

    def commit(self, repository_id: str) -> str | None:
        with self._lock:
            held = self._engines.get(repository_id)
        return None if held is None else held[1]

    def answer(self, repository_id: str, method: str, params: dict[str, Any]) -> Any:
        """One agent tool call answered from the repository's index (redacted)."""
        with self._lock:
            held = self._engines.get(repository_id)
        if held is None:
            raise RepositoryUnavailable("the repository is not indexed on this server yet")
        return answer_callback(held[0], make_redactor(self.settings), method, params)

    def close(self) -> None:
        self._stop.set()
        self._wake.put("")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine, _commit in engines:
            engine.close()

    # -- the sync thread ---------------------------------------------------------------------

    def _loop(self) -> None:
        due = 0.0  # the first pass syncs everything at once
        while not self._stop.is_set():
            try:
                item = self._wake.get(timeout=max(0.0, due - time.monotonic()))
            except queue.Empty:
                item = None
            if self._stop.is_set():
                return
            try:
                if item is None:
                    for repository_id in self.store.ids():
                        if self._stop.is_set():
                            return
                        self._sync(repository_id)
                    due = time.monotonic() + self.refresh_s
                elif item:
                    self._sync(item)
            except Exception as exc:  # the database blinked: the next pass tries again
                _log.warning("team_index_pass_failed", error=repr(exc))
                due = time.monotonic() + min(self.refresh_s, 30.0)

    def _sync(self, repository_id: str) -> None:
        repo = self.store.get(repository_id)
        if repo is None:  # removed: forget this server's copy
            self._drop(repository_id)
            return
        started = time.monotonic()
        if repo.status != "ready":
            self.store.mark(repository_id, "indexing", error=None)
        try:
            root = self._checkout(repo)
            with self._lock:
                held = self._engines.get(repository_id)
            engine = held[0] if held is not None else self._open(repository_id, root)
            summary = engine.index()
            commit = head_commit(root)
        except Exception as exc:
            _log.warning("repository_index_failed", repository=repo.name, error=str(exc)[:300])
            self.store.mark(repository_id, "failed", error=str(exc)[:1000])
            return
        with self._lock:
            self._engines[repository_id] = (engine, commit)
        self.store.mark(
            repository_id,
            "ready",
            commit=commit,
            files=summary.files,
            error=None,
            indexed_at=now(),
        )
        _log.info(
            "repository_indexed",
            repository=repo.name,
            commit=commit,
            files=summary.files,
            seconds=round(time.monotonic() - started, 2),
        )

    def _checkout(self, repo: TeamRepository) -> Path:
        """The directory to index: the local path, or the git clone brought up to date."""
        if repo.kind == "path":
            root = Path(repo.source)
            if not root.is_dir():
                raise RuntimeError(f"{repo.source} is no longer a directory")
            return root
        checkout = self._dir / repo.repository_id / "checkout"
        if (checkout / ".git").is_dir():
            _git(["fetch", "--depth", "1", "--no-tags", "--quiet", "origin", "HEAD"], checkout)
            _git(["reset", "--hard", "--quiet", "FETCH_HEAD"], checkout)
        else:
            shutil.rmtree(checkout, ignore_errors=True)
            checkout.parent.mkdir(parents=True, exist_ok=True)
            clone = ["clone", "--depth", "1", "--no-tags", "--quiet", "--"]
            _git([*clone, repo.source, str(checkout)])
        return checkout

    def _open(self, repository_id: str, root: Path) -> WorkspaceEngine:
        """An engine whose index lives in the data dir (never inside the repository)."""
        index = self.settings.index.model_copy(
            update={"cache_dir": self._dir / repository_id / "index", "embeddings": "none"}
        )
        settings = self.settings.model_copy(update={"index": index})
        return WorkspaceEngine(root.resolve(), settings, layout_for(root.resolve(), settings))

    def _drop(self, repository_id: str) -> None:
        with self._lock:
            held = self._engines.pop(repository_id, None)
        if held is not None:
            held[0].close()
        shutil.rmtree(self._dir / repository_id, ignore_errors=True)


class LocalRepositoryChannel:
    """A run's tool calls answered by this process's team index (runs executed here)."""

    def __init__(self, index: TeamIndex, repository_id: str) -> None:
        self._index = index
        self._id = repository_id

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        return self._index.answer(self._id, method, params)
