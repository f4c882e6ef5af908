"""What the team server's REST API and WebSocket protocol exchange (docs/team-server.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.ids import TRACEPARENT_PATTERN, CrewName, FeedbackVerdict, RunEventKind
from llmgenie.contracts.runs import LineRange, RunRequest, RunResult, RunStatus
from llmgenie.contracts.search import SearchResult

MAX_FILES = 200
MAX_FILE_CHARS = 200_000
MAX_PROMPT_CHARS = 100_000
REPO_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
GIT_URL = r"^(https://|ssh://|git@[A-Za-z0-9.-]+:|file:///)\S+$"
RepositoryStatus = Literal["pending", "indexing", "ready", "failed"]


class RunSubmission(BaseModel):
    """A run to start on the team server.

    From an editor, `context` is the redacted AnalyzedContext computed on the developer's
    machine (the agents call back into the editor's index for more). Headless (CI), `files`
    carries the (already redacted) files to work on.
    """

    model_config = ConfigDict(extra="forbid")

    crew: CrewName
    prompt: str = Field("", max_length=MAX_PROMPT_CHARS)
    path: str | None = Field(None, max_length=4096, description="workspace-relative file")
    range: LineRange | None = None
    diagnostic: str | None = Field(None, max_length=20_000)
    model: str | None = Field(None, max_length=200)
    workspace: str = Field("", max_length=4096, description="the editor's root (a label)")
    context: AnalyzedContext | None = None
    files: dict[str, str] = Field(default_factory=dict, max_length=MAX_FILES)
    repository: str | None = Field(
        None,
        pattern=REPO_NAME,
        description="a registered repository (by name) the run works on, headless",
    )
    traceparent: str | None = Field(
        None,
        pattern=TRACEPARENT_PATTERN,
        description="the submitter's W3C trace context: the run joins that trace",
    )


class AnswerFeedback(BaseModel):
    """A member's verdict on a run's answer (the chat's thumbs up or down)."""

    model_config = ConfigDict(extra="forbid")

    verdict: FeedbackVerdict
    comment: str | None = Field(None, max_length=2000)


class TeamRun(BaseModel):
    """A run as the team server records it."""

    run_id: str
    team_id: str
    user_id: str
    crew: CrewName
    status: RunStatus
    request: RunRequest
    result: RunResult | None = None
    error: str | None = None
    cancel_requested: bool = Field(False, description="a cancel is on its way to the worker")
    trace_id: str | None = Field(None, description="the run's OpenTelemetry trace, if traced")
    created_at: float
    updated_at: float
    last_seq: int = Field(0, description="sequence number of the run's latest event")


class SequencedEvent(BaseModel):
    """A run event with its per-run sequence number (1, 2, 3, … with no gaps)."""

    run_id: str
    seq: int = Field(ge=1)
    kind: RunEventKind
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    at: float


class EventPage(BaseModel):
    """Events of a run after a sequence number, oldest first."""

    run_id: str
    status: RunStatus
    events: list[SequencedEvent]
    last_seq: int


class TokenResponse(BaseModel):
    """OAuth2 token endpoint answer."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str | None = None


class TokenInfo(BaseModel):
    """A personal access token as listed (never its secret)."""

    token_id: str
    name: str
    created_at: float
    expires_at: float
    revoked: bool
    last_used_at: float | None = None


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int = Field(30, ge=1, le=90)


class CreatedToken(TokenInfo):
    token: str = Field(description="shown once; keep it secret")


class Member(BaseModel):
    user_id: str
    email: str
    name: str
    role: Literal["viewer", "member", "admin"]


class NewMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)
    role: Literal["viewer", "member", "admin"] = "member"
    password: str | None = Field(None, min_length=12, max_length=200)


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["viewer", "member", "admin"]


class TeamInfo(BaseModel):
    team_id: str
    name: str
    role: Literal["viewer", "member", "admin"]


class Me(BaseModel):
    user_id: str
    email: str
    teams: list[TeamInfo]


class AuditEntry(BaseModel):
    seq: int
    ts: str
    run_id: str | None
    actor: str
    action: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditReport(BaseModel):
    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""


class ErrorBody(BaseModel):
    """Every error answer of the REST API."""

    error: str = Field(description="a stable word: unauthorized, forbidden, not_found, …")
    message: str


class GitRepository(BaseModel):
    """Register a git repository (cloned shallow, fetched again on every refresh)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=REPO_NAME, description="unique in the team")
    url: str = Field(
        max_length=2048,
        pattern=GIT_URL,
        description="https://, ssh://, git@host:path, or file:// inside the server's repo_roots",
    )


class PathRepository(BaseModel):
    """Register a directory on the team server (under one of its repo_roots)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=REPO_NAME, description="unique in the team")
    path: str = Field(max_length=4096, pattern=r"^/[^\x00]*$", description="absolute")


NewRepository = GitRepository | PathRepository


class TeamRepository(BaseModel):
    """A registered repository and the state of this team index's copy of it."""

    repository_id: str
    team_id: str
    name: str
    source: str = Field(description="the git URL or server path it is read from")
    kind: Literal["git", "path"]
    status: RepositoryStatus
    commit: str | None = Field(None, description="the git commit last indexed, if any")
    files: int = Field(0, description="files in the index")
    error: str | None = None
    created_at: float
    indexed_at: float | None = None


class RepositorySearch(BaseModel):
    """Search results in a registered repository, at the commit its index holds."""

    repository: str
    commit: str | None
    result: SearchResult


class RepositoryMap(BaseModel):
    """The repository map (the most referenced symbols, file by file) of a registered one."""

    repository: str
    commit: str | None
    map: str
