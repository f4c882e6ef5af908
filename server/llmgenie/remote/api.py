"""REST `/api/v1` (OpenAPI at `/openapi.json`): runs, events, audit, tokens, members,
repositories of the team index.

Every route converts HTTP into one TeamService call and the answer (or the error) back.
Errors are `{"error": word, "message": text}` with 400/401/403/404/409/422/429; a token is
read from the `Authorization: Bearer` header only (a query-string token is refused).
"""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.team import (
    REPO_NAME,
    AnswerFeedback,
    AuditEntry,
    AuditReport,
    CreatedToken,
    ErrorBody,
    EventPage,
    Me,
    Member,
    NewMember,
    NewRepository,
    NewToken,
    RepositoryMap,
    RepositorySearch,
    RoleChange,
    RunSubmission,
    TeamRepository,
    TeamRun,
    TokenInfo,
    TokenResponse,
)
from llmgenie.remote.auth import AuthError, Principal
from llmgenie.remote.ledger import NotFound
from llmgenie.remote.repos import Conflict
from llmgenie.remote.roles import Forbidden
from llmgenie.remote.service import RateLimited, TeamService

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="a JWT access token or a personal token")
_QUERY_TOKENS = ("token", "access_token", "auth")
_ID = r"^[A-Za-z0-9_-]{1,64}$"


class ApiError(Exception):
    """An error answer: HTTP status, a stable word, a message for people."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def error_response(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    body = ErrorBody(error=exc.error, message=exc.message).model_dump()
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {
        400: "bad request",
        401: "not authenticated",
        403: "the role does not allow it",
        404: "not found (or not visible to the caller)",
        409: "conflict",
        422: "invalid input",
        429: "rate limited",
    }
    return {code: {"model": ErrorBody, "description": words[code]} for code in codes}


COMMON = _errors(400, 401, 422, 429)


def translate(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AuthError):
        return ApiError(401, "unauthorized", exc.reason)
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Forbidden):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, RateLimited):
        return ApiError(429, "rate_limited", str(exc))
    if isinstance(exc, InvalidRequest | ValueError):
        return ApiError(422, "invalid", str(exc))
    raise exc


def build_router(service: TeamService) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=COMMON)

    async def call(fn: Callable[[], T]) -> T:
        """Run a (blocking) service call off the event loop; map its errors."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, fn)
        except Exception as exc:
            raise translate(exc) from exc

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if any(k in request.query_params for k in _QUERY_TOKENS):
            raise ApiError(400, "token_in_query", "send the token in the Authorization header")
        if credentials is None:
            raise ApiError(401, "unauthorized", "missing bearer token")

        def authenticate() -> Principal:
            principal = service.authenticate(credentials.credentials)
            service.count_request(principal)
            return principal

        return await call(authenticate)

    Caller = Annotated[Principal, Depends(caller)]
    TeamId = Annotated[str, Path(pattern=_ID)]
    RunId = Annotated[str, Path(pattern=_ID)]
    RepoName = Annotated[str, Path(pattern=REPO_NAME)]

    # -- auth ---------------------------------------------------------------------------

    @router.post("/auth/token", response_model=TokenResponse, tags=["auth"])
    async def token(
        grant_type: Annotated[str, Form(pattern="^(password|refresh_token)$")],
        username: Annotated[str | None, Form(max_length=320)] = None,
        password: Annotated[str | None, Form(max_length=200)] = None,
        refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    ) -> TokenResponse:
        """OAuth2 token endpoint: the password grant (answers a refresh token too) or the
        refresh_token grant (answers a new access token)."""

        def grant() -> TokenResponse:
            # Missing credentials are failed credentials (401), like wrong ones.
            if grant_type == "password":
                user_id = service.auth.password_login(username or "", password or "")
            else:
                user_id = service.auth.redeem_refresh(refresh_token or "")
            access = service.auth.issue_access(user_id)
            refresh = (
                service.auth.issue_opaque(user_id, "refresh").token
                if grant_type == "password"
                else None
            )
            return TokenResponse(
                access_token=access.token,
                expires_in=service.auth.access_ttl_s,
                refresh_token=refresh,
            )

        return await call(grant)

    @router.post("/auth/revoke", status_code=204, tags=["auth"])
    async def revoke(token: Annotated[str, Form(max_length=200)] = "") -> Response:
        """Revoke a refresh or personal token (RFC 7009: unknown tokens are not an error)."""
        await call(lambda: service.auth.revoke_credential(token))
        return Response(status_code=204)

    @router.get("/me", response_model=Me, tags=["auth"])
    async def me(principal: Caller) -> Me:
        return await call(lambda: service.me(principal))

    # -- tokens -------------------------------------------------------------------------

    @router.get("/tokens", response_model=list[TokenInfo], tags=["tokens"])
    async def tokens(principal: Caller) -> list[TokenInfo]:
        return await call(lambda: service.tokens(principal))

    @router.post("/tokens", response_model=CreatedToken, status_code=201, tags=["tokens"])
    async def create_token(principal: Caller, new: NewToken) -> CreatedToken:
        """A personal access token for CI (at most 90 days); its secret is shown once."""
        return await call(lambda: service.create_token(principal, new))

    @router.delete("/tokens/{token_id}", status_code=204, responses=_errors(404), tags=["tokens"])
    async def revoke_token(
        principal: Caller, token_id: Annotated[str, Path(pattern=_ID)]
    ) -> Response:
        await call(lambda: service.revoke_token(principal, token_id))
        return Response(status_code=204)

    # -- runs ---------------------------------------------------------------------------

    @router.post(
        "/teams/{team_id}/runs",
        response_model=TeamRun,
        status_code=202,
        responses={
            200: {"model": TeamRun, "description": "the run of an idempotency key"},
            **_errors(403, 404, 409),
        },
        tags=["runs"],
    )
    async def submit(
        principal: Caller,
        team_id: TeamId,
        submission: RunSubmission,
        request: Request,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> TeamRun:
        """Start a run (recorded before this answers). The same `Idempotency-Key` returns
        the same run (200) instead of starting another."""
        try:  # the schema is the contract: no lenient coercion of a run's input
            RunSubmission.model_validate_json(await request.body(), strict=True)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ApiError(422, "invalid", f"{where}: {err['msg']}") from exc
        run, created = await call(
            lambda: service.submit(principal, team_id, submission, idempotency_key)
        )
        response.status_code = 202 if created else 200
        return run

    @router.get(
        "/teams/{team_id}/runs",
        response_model=list[TeamRun],
        responses=_errors(403, 404),
        tags=["runs"],
    )
    async def runs(
        principal: Caller, team_id: TeamId, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> list[TeamRun]:
        return await call(lambda: service.runs(principal, team_id, limit))

    @router.get(
        "/teams/{team_id}/runs/{run_id}",
        response_model=TeamRun,
        responses=_errors(403, 404),
        tags=["runs"],
    )
    async def run(principal: Caller, team_id: TeamId, run_id: RunId) -> TeamRun:
        return await call(lambda: service.run(principal, team_id, run_id))

    @router.post(
        "/teams/{team_id}/runs/{run_id}/cancel",
        response_model=TeamRun,
        responses=_errors(403, 404),
        tags=["runs"],
    )
    async def cancel(principal: Caller, team_id: TeamId, run_id: RunId) -> TeamRun:
        """Acknowledged at once; the run reaches `cancelled` within seconds."""
        return await call(lambda: service.cancel(principal, team_id, run_id))

    @router.post(
        "/teams/{team_id}/runs/{run_id}/feedback",
        response_model=TeamRun,
        responses=_errors(403, 404),
        tags=["runs"],
    )
    async def feedback(
        principal: Caller, team_id: TeamId, run_id: RunId, body: AnswerFeedback
    ) -> TeamRun:
        """A member's verdict on the run's answer (audited, counted by crew and verdict)."""
        return await call(lambda: service.feedback(principal, team_id, run_id, body))

    @router.get(
        "/teams/{team_id}/runs/{run_id}/events",
        response_model=EventPage,
        responses=_errors(403, 404),
        tags=["runs"],
    )
    async def events(
        principal: Caller,
        team_id: TeamId,
        run_id: RunId,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ) -> EventPage:
        """The run's events after sequence number `after` (resume where you stopped)."""
        return await call(lambda: service.events(principal, team_id, run_id, after))

    # -- the team index -------------------------------------------------------------------

    @router.post(
        "/teams/{team_id}/repositories",
        response_model=TeamRepository,
        status_code=201,
        responses=_errors(403, 404, 409),
        tags=["repositories"],
    )
    async def register_repository(
        principal: Caller, team_id: TeamId, new: NewRepository
    ) -> TeamRepository:
        """Register a git URL or a server directory (admins); it is indexed in the
        background (`status` goes pending → indexing → ready) and kept fresh."""
        return await call(lambda: service.register_repository(principal, team_id, new))

    @router.get(
        "/teams/{team_id}/repositories",
        response_model=list[TeamRepository],
        responses=_errors(403, 404),
        tags=["repositories"],
    )
    async def repositories(principal: Caller, team_id: TeamId) -> list[TeamRepository]:
        return await call(lambda: service.repositories(principal, team_id))

    @router.get(
        "/teams/{team_id}/repositories/{name}",
        response_model=TeamRepository,
        responses=_errors(403, 404),
        tags=["repositories"],
    )
    async def repository(principal: Caller, team_id: TeamId, name: RepoName) -> TeamRepository:
        return await call(lambda: service.repository(principal, team_id, name))

    @router.delete(
        "/teams/{team_id}/repositories/{name}",
        status_code=204,
        responses=_errors(403, 404),
        tags=["repositories"],
    )
    async def remove_repository(principal: Caller, team_id: TeamId, name: RepoName) -> Response:
        await call(lambda: service.remove_repository(principal, team_id, name))
        return Response(status_code=204)

    @router.post(
        "/teams/{team_id}/repositories/{name}/refresh",
        response_model=TeamRepository,
        status_code=202,
        responses=_errors(403, 404),
        tags=["repositories"],
    )
    async def refresh_repository(
        principal: Caller, team_id: TeamId, name: RepoName
    ) -> TeamRepository:
        """Fetch and re-index now instead of at the next refresh."""
        return await call(lambda: service.refresh_repository(principal, team_id, name))

    @router.get(
        "/teams/{team_id}/repositories/{name}/search",
        response_model=RepositorySearch,
        responses=_errors(403, 404, 409),
        tags=["repositories"],
    )
    async def search_repository(
        principal: Caller,
        team_id: TeamId,
        name: RepoName,
        q: Annotated[str, Query(min_length=1, max_length=4000)],
        k: Annotated[int, Query(ge=1, le=25)] = 10,
    ) -> RepositorySearch:
        """Files and chunks for a query, best first, each with the reasons it ranks."""
        return await call(lambda: service.search_repository(principal, team_id, name, q, k))

    @router.get(
        "/teams/{team_id}/repositories/{name}/map",
        response_model=RepositoryMap,
        responses=_errors(403, 404, 409),
        tags=["repositories"],
    )
    async def repository_map(
        principal: Caller,
        team_id: TeamId,
        name: RepoName,
        tokens: Annotated[int, Query(ge=64, le=8192)] = 1024,
    ) -> RepositoryMap:
        return await call(lambda: service.repository_map(principal, team_id, name, tokens))

    # -- audit --------------------------------------------------------------------------

    @router.get(
        "/teams/{team_id}/audit",
        response_model=list[AuditEntry],
        responses=_errors(403, 404),
        tags=["audit"],
    )
    async def audit(
        principal: Caller,
        team_id: TeamId,
        run_id: Annotated[str | None, Query(pattern=_ID)] = None,
    ) -> list[AuditEntry]:
        return await call(lambda: service.audit_records(principal, team_id, run_id))

    @router.get(
        "/teams/{team_id}/audit/verify",
        response_model=AuditReport,
        responses=_errors(403, 404),
        tags=["audit"],
    )
    async def verify(principal: Caller, team_id: TeamId) -> AuditReport:
        """Recompute the team's hash chain; the first broken record if any."""
        return await call(lambda: service.verify(principal, team_id))

    # -- members (admin) ----------------------------------------------------------------

    @router.get(
        "/teams/{team_id}/members",
        response_model=list[Member],
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def members(principal: Caller, team_id: TeamId) -> list[Member]:
        return await call(lambda: service.members(principal, team_id))

    @router.post(
        "/teams/{team_id}/members",
        response_model=Member,
        status_code=201,
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def add_member(principal: Caller, team_id: TeamId, new: NewMember) -> Member:
        return await call(lambda: service.add_member(principal, team_id, new))

    @router.patch(
        "/teams/{team_id}/members/{user_id}",
        response_model=Member,
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def set_role(
        principal: Caller,
        team_id: TeamId,
        user_id: Annotated[str, Path(pattern=_ID)],
        change: RoleChange,
    ) -> Member:
        return await call(lambda: service.set_role(principal, team_id, user_id, change.role))

    @router.delete(
        "/teams/{team_id}/members/{user_id}",
        status_code=204,
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def remove_member(
        principal: Caller, team_id: TeamId, user_id: Annotated[str, Path(pattern=_ID)]
    ) -> Response:
        await call(lambda: service.remove_member(principal, team_id, user_id))
        return Response(status_code=204)

    @router.get(
        "/teams/{team_id}/users/{user_id}/export",
        response_model=dict[str, Any],
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def export_user(
        principal: Caller, team_id: TeamId, user_id: Annotated[str, Path(pattern=_ID)]
    ) -> dict[str, Any]:
        """Everything stored about a user in this team (tokens without secrets)."""
        return await call(lambda: service.export_user(principal, team_id, user_id))

    @router.delete(
        "/teams/{team_id}/users/{user_id}",
        response_model=dict[str, int],
        responses=_errors(403, 404),
        tags=["members"],
    )
    async def erase_user(
        principal: Caller, team_id: TeamId, user_id: Annotated[str, Path(pattern=_ID)]
    ) -> dict[str, int]:
        """Erase a user's runs, events, results and tokens (the audit chain keeps a
        tombstone record of the erasure)."""
        return await call(lambda: service.erase_user(principal, team_id, user_id))

    return router
