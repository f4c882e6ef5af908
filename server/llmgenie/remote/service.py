"""TeamService: every team-server feature once, for both front doors (REST and WebSocket).

Each method takes the authenticated caller, checks their role in the team (cross-team
access is a NotFound: another team's runs are not even said to exist), and calls the
ledger, the queue or the authenticator. Adapters (api.py, ws.py) only convert.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmgenie import __version__
from llmgenie.config import Settings
from llmgenie.contracts import ids
from llmgenie.contracts.errors import PermissionDenied
from llmgenie.contracts.runs import RunRequest
from llmgenie.contracts.search import SearchResult
from llmgenie.contracts.team import (
    AnswerFeedback,
    AuditEntry,
    AuditReport,
    CreatedToken,
    EventPage,
    Me,
    Member,
    NewMember,
    NewRepository,
    NewToken,
    RepositoryMap,
    RepositorySearch,
    RunSubmission,
    TeamInfo,
    TeamRepository,
    TeamRun,
    TokenInfo,
)
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import ANSWER_FEEDBACK
from llmgenie.observability.tracing import carrier, continued, tracer
from llmgenie.remote.auth import Authenticator, Principal
from llmgenie.remote.blobs import BlobStore, store_files
from llmgenie.remote.ledger import Ledger, NotFound
from llmgenie.remote.live import RateLimiter, Sessions
from llmgenie.remote.relay import CallbackPump
from llmgenie.remote.repos import (
    Conflict,
    RepositoryStore,
    RepositoryUnavailable,
    TeamIndex,
    parse_source,
)
from llmgenie.remote.roles import Forbidden, require, role_policy
from llmgenie.remote.runner import RunQueue
from llmgenie.remote.workspace import EditorChannel, NoEditor
from llmgenie.wrapper.permissions import check_permissions

_log = get_logger(__name__)


class RateLimited(Exception):
    """The caller sent more requests this minute than the server allows."""


@dataclass
class Health:
    ok: bool
    checks: dict[str, str]
    version: str = __version__


class TeamService:
    """The team server's features over its ledger, queue, authenticator and live parts."""

    def __init__(
        self,
        ledger: Ledger,
        auth: Authenticator,
        queue: RunQueue,
        limiter: RateLimiter,
        sessions: Sessions,
        settings: Settings,
        blobs: BlobStore,
        redis_ping: Any | None = None,
        relay: CallbackPump | None = None,
        index: TeamIndex | None = None,
    ) -> None:
        self.ledger = ledger
        self.index = index
        self.relay = relay
        self.blobs = blobs
        self.auth = auth
        self.queue = queue
        self.limiter = limiter
        self.sessions = sessions
        self.settings = settings
        self._redis_ping = redis_ping
        self._channels: dict[str, EditorChannel] = {}
        self._channels_lock = threading.Lock()

    # -- callers ----------------------------------------------------------------------------

    def authenticate(self, credential: str) -> Principal:
        """AuthError for any credential that is missing, malformed, expired or revoked."""
        return self.auth.authenticate(credential)

    def count_request(self, principal: Principal) -> None:
        if not self.limiter.allow(principal.user_id):
            raise RateLimited("too many requests; try again in a minute")

    def role(self, principal: Principal, team_id: str) -> str:
        """The caller's role in `team_id`; NotFound if they are not a member."""
        role = self.ledger.role_of(principal.user_id, team_id)
        if role is None:
            raise NotFound(f"no team {team_id} for this user")
        return role

    def default_team(self, principal: Principal) -> str:
        """The caller's team when they belong to exactly one (else they must name it)."""
        teams = self.ledger.teams_of(principal.user_id)
        if len(teams) != 1:
            raise NotFound("name the team: this user belongs to " + str(len(teams)) + " teams")
        return teams[0][0]

    def me(self, principal: Principal) -> Me:
        teams = [
            TeamInfo(team_id=t, name=n, role=r)
            for t, n, r in self.ledger.teams_of(principal.user_id)
        ]
        return Me(user_id=principal.user_id, email=principal.email, teams=teams)

    # -- runs -------------------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        team_id: str,
        submission: RunSubmission,
        idempotency_key: str | None = None,
        channel: EditorChannel | None = None,
    ) -> tuple[TeamRun, bool]:
        """Record a run (committed before this returns) and queue it; the same idempotency
        key returns the same run. A crew the caller's role may not run is refused here."""
        require(self.role(principal, team_id), "member", "running a crew")
        role = self.role(principal, team_id)
        request = RunRequest(
            crew=submission.crew,
            workspace=submission.workspace or "/",
            path=submission.path,
            range=submission.range,
            prompt=submission.prompt,
            diagnostic=submission.diagnostic,
            model=submission.model,
        )
        try:
            check_permissions(request, role_policy(self.settings.permissions, role))
        except PermissionDenied as exc:
            raise Forbidden(str(exc)) from exc
        parent = {"traceparent": submission.traceparent} if submission.traceparent else None
        with (
            continued(parent),  # an editor's language server started the trace
            tracer().start_as_current_span(
                "run.submit",
                attributes={"llmgenie.crew": submission.crew, "llmgenie.team": team_id},
            ) as span,
        ):
            run, created = self._submit(principal, team_id, submission, request, idempotency_key)
            span.set_attribute("llmgenie.run_id", run.run_id)
            if channel is not None:
                self.attach(run.run_id, channel)
            if created:
                self.queue.enqueue(run.run_id)  # in the span: the message carries its trace
        return run, created

    def _submit(
        self,
        principal: Principal,
        team_id: str,
        submission: RunSubmission,
        request: RunRequest,
        idempotency_key: str | None,
    ) -> tuple[TeamRun, bool]:
        context: dict[str, Any] = {"trace": carrier()}  # the worker continues this trace
        if submission.context is not None:
            context["analyzed"] = submission.context.model_dump(mode="json")
        if submission.files:  # contents to the blob store, the row keeps their digests
            context["bundle"] = store_files(self.blobs, submission.files)
        elif submission.repository is not None:
            repo = self._repositories().named(team_id, submission.repository)
            if repo.status != "ready":
                raise Conflict(f"repository {repo.name} is {repo.status}, not ready yet")
            context["repository"] = {"id": repo.repository_id, "commit": repo.commit}
        return self.ledger.submit(team_id, principal.user_id, request, context, idempotency_key)

    # -- the team index ---------------------------------------------------------------------

    def _repositories(self) -> RepositoryStore:
        if self.index is None:
            raise NotFound("this server keeps no team index")
        return self.index.store

    def register_repository(
        self, principal: Principal, team_id: str, new: NewRepository
    ) -> TeamRepository:
        """Add a repository to the team index (admins); it is cloned and indexed soon."""
        require(self.role(principal, team_id), "admin", "registering a repository")
        store = self._repositories()
        assert self.index is not None
        kind, source = parse_source(new, self.index.roots)
        repo = store.add(team_id, new.name, kind, source)
        self.ledger.audit(
            team_id,
            "repository_registered",
            {"name": repo.name, "kind": kind, "source": source},
            actor=principal.user_id,
        )
        self.index.request(repo.repository_id)
        return repo

    def repositories(self, principal: Principal, team_id: str) -> list[TeamRepository]:
        require(self.role(principal, team_id), "viewer", "reading repositories")
        return self._repositories().of_team(team_id)

    def repository(self, principal: Principal, team_id: str, name: str) -> TeamRepository:
        require(self.role(principal, team_id), "viewer", "reading repositories")
        return self._repositories().named(team_id, name)

    def refresh_repository(self, principal: Principal, team_id: str, name: str) -> TeamRepository:
        """Fetch and re-index now (members), instead of at the next refresh."""
        require(self.role(principal, team_id), "member", "refreshing a repository")
        repo = self._repositories().named(team_id, name)
        assert self.index is not None
        self.index.request(repo.repository_id)
        return repo

    def remove_repository(self, principal: Principal, team_id: str, name: str) -> None:
        require(self.role(principal, team_id), "admin", "removing a repository")
        store = self._repositories()
        repo = store.named(team_id, name)
        store.remove(repo.repository_id)
        self.ledger.audit(
            team_id, "repository_removed", {"name": repo.name}, actor=principal.user_id
        )
        assert self.index is not None
        self.index.request(repo.repository_id)

    def search_repository(
        self, principal: Principal, team_id: str, name: str, query: str, k: int
    ) -> RepositorySearch:
        """Search a registered repository with the context engine (texts redacted)."""
        repo, answer = self._ask_index(
            principal, team_id, name, ids.CALLBACK_SEARCH, {"query": query, "k": k}
        )
        return RepositorySearch(
            repository=repo.name,
            commit=self._commit(repo),
            result=SearchResult.model_validate(answer),
        )

    def repository_map(
        self, principal: Principal, team_id: str, name: str, tokens: int
    ) -> RepositoryMap:
        """The repository map of a registered repository (redacted)."""
        repo, answer = self._ask_index(
            principal, team_id, name, ids.CALLBACK_REPO_MAP, {"tokens": tokens}
        )
        return RepositoryMap(repository=repo.name, commit=self._commit(repo), map=answer["map"])

    def _ask_index(
        self, principal: Principal, team_id: str, name: str, method: str, params: dict[str, Any]
    ) -> tuple[TeamRepository, Any]:
        repo = self.repository(principal, team_id, name)
        assert self.index is not None
        try:
            return repo, self.index.answer(repo.repository_id, method, params)
        except RepositoryUnavailable as exc:
            raise Conflict(f"repository {repo.name} is {repo.status}: {exc}") from exc

    def _commit(self, repo: TeamRepository) -> str | None:
        assert self.index is not None
        return self.index.commit(repo.repository_id)

    def run(self, principal: Principal, team_id: str | None, run_id: str) -> TeamRun:
        """A run of the caller's team (`team_id`, or whichever team the run is in)."""
        run, role = self.ledger.visible_run(principal.user_id, run_id, team_id)
        require(role, "viewer", "reading runs")
        return run

    def runs(self, principal: Principal, team_id: str | None, limit: int = 50) -> list[TeamRun]:
        """The team's runs, newest first (no team: the caller's only team)."""
        role, runs = self.ledger.visible_runs(principal.user_id, team_id, limit)
        require(role, "viewer", "reading runs")
        return runs

    def cancel(self, principal: Principal, team_id: str | None, run_id: str) -> TeamRun:
        """Acknowledged at once: the request is in the ledger; the run stops within seconds."""
        run, role = self.ledger.visible_run(principal.user_id, run_id, team_id)
        team_id = run.team_id
        if run.user_id != principal.user_id:
            require(role, "admin", "cancelling another member's run")
        else:
            require(role, "member", "cancelling a run")
        run = self.ledger.request_cancel(team_id, run_id)
        self.queue.cancel(run_id)
        self.ledger.audit(
            team_id, "run_cancel_requested", {}, actor=principal.user_id, run_id=run_id
        )
        return run

    def feedback(
        self, principal: Principal, team_id: str | None, run_id: str, feedback: AnswerFeedback
    ) -> TeamRun:
        """A member's verdict on a run's answer: audited with the run and counted by crew and
        verdict (the business dashboard's feedback panel)."""
        run, role = self.ledger.visible_run(principal.user_id, run_id, team_id)
        require(role, "viewer", "giving feedback on a run")
        data: dict[str, object] = {"verdict": feedback.verdict}
        if feedback.comment:
            data["comment"] = feedback.comment
        self.ledger.audit(
            run.team_id, "answer_feedback", data, actor=principal.user_id, run_id=run_id
        )
        ANSWER_FEEDBACK.labels(run.crew, feedback.verdict).inc()
        return run

    def events(
        self, principal: Principal, team_id: str | None, run_id: str, after: int
    ) -> EventPage:
        """The run's events after sequence number `after`, in order."""
        run, role, events = self.ledger.visible_events(principal.user_id, run_id, after, team_id)
        require(role, "viewer", "reading runs")
        last = events[-1].seq if events else max(after, 0)
        return EventPage(run_id=run_id, status=run.status, events=events, last_seq=last)

    # -- editor channels (tool calls back into the developer's index) -----------------------

    def attach(self, run_id: str, channel: EditorChannel) -> None:
        """The editor session that answers this run's tool calls (the latest one wins)."""
        with self._channels_lock:
            self._channels[run_id] = channel
        if self.relay is not None:  # before the doorbell: its worker's first call finds it
            self.relay.mark_attached(run_id)

    def detach(self, channel: EditorChannel) -> None:
        with self._channels_lock:
            for run_id in [r for r, c in self._channels.items() if c is channel]:
                del self._channels[run_id]

    def channel_for(self, run_id: str) -> EditorChannel:
        with self._channels_lock:
            return self._channels.get(run_id) or NoEditor()

    # -- audit ------------------------------------------------------------------------------

    def audit_records(
        self, principal: Principal, team_id: str, run_id: str | None = None
    ) -> list[AuditEntry]:
        require(self.role(principal, team_id), "viewer", "reading the audit log")
        return self.ledger.audit_records(team_id, run_id)

    def verify(self, principal: Principal, team_id: str) -> AuditReport:
        require(self.role(principal, team_id), "viewer", "verifying the audit log")
        return self.ledger.verify(team_id)

    # -- tokens -----------------------------------------------------------------------------

    def tokens(self, principal: Principal) -> list[TokenInfo]:
        return [
            TokenInfo(
                token_id=t.id,
                name=t.name,
                created_at=t.created_at,
                expires_at=t.expires_at,
                revoked=t.revoked_at is not None,
                last_used_at=t.last_used_at,
            )
            for t in self.ledger.tokens_of(principal.user_id)
        ]

    def create_token(self, principal: Principal, new: NewToken) -> CreatedToken:
        issued = self.auth.issue_opaque(principal.user_id, "pat", new.name, new.expires_in_days)
        for team_id, _name, _role in self.ledger.teams_of(principal.user_id):
            self.ledger.audit(
                team_id, "token_created", {"token_id": issued.token_id}, actor=principal.user_id
            )
        return CreatedToken(
            token_id=issued.token_id,
            name=new.name,
            created_at=time.time(),
            expires_at=issued.expires_at,
            revoked=False,
            token=issued.token,
        )

    def revoke_token(self, principal: Principal, token_id: str) -> None:
        if not self.auth.revoke(principal.user_id, token_id):
            raise NotFound(f"no active token {token_id}")
        for team_id, _name, _role in self.ledger.teams_of(principal.user_id):
            self.ledger.audit(
                team_id, "token_revoked", {"token_id": token_id}, actor=principal.user_id
            )

    # -- members (admin) --------------------------------------------------------------------

    def members(self, principal: Principal, team_id: str) -> list[Member]:
        require(self.role(principal, team_id), "viewer", "listing members")
        return self.ledger.members(team_id)

    def add_member(self, principal: Principal, team_id: str, new: NewMember) -> Member:
        require(self.role(principal, team_id), "admin", "adding members")
        user_id = self.ledger.ensure_user(new.email, new.name, new.password)
        self.ledger.set_member(team_id, user_id, new.role)
        self.ledger.audit(
            team_id, "member_added", {"user_id": user_id, "role": new.role}, actor=principal.user_id
        )
        return next(m for m in self.ledger.members(team_id) if m.user_id == user_id)

    def set_role(self, principal: Principal, team_id: str, user_id: str, role: str) -> Member:
        require(self.role(principal, team_id), "admin", "changing roles")
        if self.ledger.role_of(user_id, team_id) is None:
            raise NotFound(f"no member {user_id} in this team")
        self.ledger.set_member(team_id, user_id, role)
        self.ledger.audit(
            team_id, "role_changed", {"user_id": user_id, "role": role}, actor=principal.user_id
        )
        return next(m for m in self.ledger.members(team_id) if m.user_id == user_id)

    def remove_member(self, principal: Principal, team_id: str, user_id: str) -> None:
        require(self.role(principal, team_id), "admin", "removing members")
        if not self.ledger.remove_member(team_id, user_id):
            raise NotFound(f"no member {user_id} in this team")
        self.ledger.audit(team_id, "member_removed", {"user_id": user_id}, actor=principal.user_id)

    def export_user(self, principal: Principal, team_id: str, user_id: str) -> dict[str, Any]:
        require(self.role(principal, team_id), "admin", "exporting a user's data")
        return self.ledger.export_user(team_id, user_id)

    def erase_user(self, principal: Principal, team_id: str, user_id: str) -> dict[str, int]:
        require(self.role(principal, team_id), "admin", "erasing a user's data")
        return self.ledger.erase_user(team_id, user_id, by=principal.user_id)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> Health:
        """Database (and Redis when configured) reachable?"""
        checks: dict[str, str] = {}
        try:
            self.ledger.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if self._redis_ping is not None:
            try:
                self._redis_ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"unavailable: {type(exc).__name__}"
        return Health(ok=all(v == "ok" for v in checks.values()), checks=checks)


def sandbox_root(data_dir: Path) -> Path:
    """Where run sandboxes are created (empty directories, removed after each run)."""
    return data_dir / "team" / "sandboxes"
