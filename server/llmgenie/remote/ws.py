"""The team server's WebSocket front door (`/lsp`): llmgenie's JSON-RPC methods over a
socket, one protocol instance (TeamSession) per connection.

Authentication happens before anything else: the token comes in the upgrade's
`Authorization: Bearer` header, or — for clients that cannot set headers — in a first
`llmgenie/authenticate` request. A token in the query string is refused. Any
authentication failure closes the socket with code 4001 and a reason, so clients can tell
it from a network drop and ask the user to sign in instead of retrying.

Run state lives in the ledger; a session only relays it. A client that reconnects asks
for a run's events after the last sequence number it saw and gets each exactly once, in
order (`llmgenie/runs/subscribe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmgenie import __version__
from llmgenie.contracts import ids
from llmgenie.contracts.errors import InvalidRequest, RequestFailed
from llmgenie.contracts.ids import FeedbackVerdict
from llmgenie.contracts.runs import RunStatus
from llmgenie.contracts.team import AnswerFeedback, RunSubmission
from llmgenie.observability.logging import get_logger
from llmgenie.remote.auth import AuthError, Principal
from llmgenie.remote.ledger import NotFound
from llmgenie.remote.live import EventTail
from llmgenie.remote.roles import Forbidden
from llmgenie.remote.rpc import INVALID_PARAMS, REQUEST_FAILED, JsonRpcConnection, RpcError
from llmgenie.remote.service import RateLimited, TeamService
from llmgenie.remote.workspace import ChannelClosed

_log = get_logger(__name__)
T = TypeVar("T")
P = TypeVar("P", bound=BaseModel)

AUTH_TIMEOUT_S = 10.0
TAIL_WAIT_S = 5.0
_TERMINAL = {s.value for s in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)}


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RunIdParams(_Params):
    run_id: str = Field(alias="runId", min_length=1, max_length=64)


class FeedbackParams(RunIdParams):
    verdict: FeedbackVerdict
    comment: str | None = Field(None, max_length=2000)


class AfterParams(RunIdParams):
    after: int = Field(0, ge=0)


class ListParams(_Params):
    team: str | None = None
    limit: int = Field(50, ge=1, le=500)


class SubmitArgs(RunSubmission):
    team: str | None = None
    idempotency_key: str | None = Field(None, alias="idempotencyKey", max_length=200)


class CommandParams(_Params):
    command: str
    arguments: list[Any] = Field(default_factory=list)


def _parse(model: type[P], raw: Any, what: str) -> P:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{what}: expected an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidRequest(f"{what}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc


def _translate(exc: BaseException) -> RpcError:
    """Service errors as JSON-RPC errors (LSP's RequestFailed with a stable reason)."""
    if isinstance(exc, InvalidRequest):
        return RpcError(INVALID_PARAMS, str(exc))
    for kind, reason in (
        (NotFound, "not_found"),
        (Forbidden, "forbidden"),
        (RateLimited, "rate_limited"),
    ):
        if isinstance(exc, kind):
            return RpcError(REQUEST_FAILED, str(exc), {"reason": reason})
    if isinstance(exc, RequestFailed):
        return RpcError(REQUEST_FAILED, str(exc), {"reason": exc.reason})
    from llmgenie.remote.rpc import to_rpc_error

    return to_rpc_error(exc)


class TeamSession:
    """One WebSocket connection of an authenticated user."""

    def __init__(self, service: TeamService, tail: EventTail, principal: Principal) -> None:
        self.service = service
        self.tail = tail
        self.principal = principal
        self.id = uuid.uuid4().hex
        self.loop = asyncio.get_running_loop()
        self.rpc: JsonRpcConnection | None = None
        self._subscriptions: dict[str, asyncio.Task[None]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "initialize": self.initialize,
            "shutdown": self.shutdown,
            ids.METHOD_AUTHENTICATE: self.authenticate_again,
            "workspace/executeCommand": self.execute_command,
            ids.METHOD_RUNS_LIST: self.runs_list,
            ids.METHOD_RUNS_STATUS: self.runs_status,
            ids.METHOD_RUNS_CANCEL: self.runs_cancel,
            ids.METHOD_RUNS_FEEDBACK: self.runs_feedback,
            ids.METHOD_RUNS_EVENTS: self.runs_events,
            ids.METHOD_RUNS_SUBSCRIBE: self.runs_subscribe,
            ids.METHOD_HEALTH: self.health,
        }

    async def _in_thread(self, fn: Callable[[], T]) -> T:
        """Service calls block on the database: run them (and the rate limit's count) off
        the event loop."""

        def counted() -> T:
            self.service.count_request(self.principal)
            return fn()

        return await asyncio.get_running_loop().run_in_executor(None, counted)

    # -- handlers ----------------------------------------------------------------------------

    async def initialize(self, params: Any) -> dict[str, Any]:
        me = await self._in_thread(lambda: self.service.me(self.principal))
        return {
            "serverInfo": {"name": "llmgenie-team", "version": __version__},
            "user": me.model_dump(mode="json"),
            "capabilities": {"requests": sorted(self.handlers()), "callbacks": list(ids.CALLBACKS)},
        }

    async def shutdown(self, params: Any) -> None:
        return None

    async def authenticate_again(self, params: Any) -> dict[str, Any]:
        return {"authenticated": True, "user_id": self.principal.user_id}

    async def execute_command(self, params: Any) -> dict[str, Any]:
        command = _parse(CommandParams, params, "workspace/executeCommand")
        if command.command != ids.COMMAND_RUN_CREW:
            raise InvalidRequest(f"unknown command {command.command}")
        raw = command.arguments[0] if command.arguments else {}
        args = _parse(SubmitArgs, raw, ids.COMMAND_RUN_CREW)
        submission = RunSubmission.model_validate(
            args.model_dump(exclude={"team", "idempotency_key"})
        )

        def submit() -> tuple[Any, bool]:
            team = args.team or self.service.default_team(self.principal)
            return self.service.submit(
                self.principal, team, submission, args.idempotency_key, channel=self
            )

        run, created = await self._in_thread(submit)
        self._pump(run.run_id)
        return {"runId": run.run_id, "created": created, "status": run.status.value}

    async def runs_list(self, params: Any) -> dict[str, Any]:
        p = _parse(ListParams, params, ids.METHOD_RUNS_LIST)
        runs = await self._in_thread(lambda: self.service.runs(self.principal, p.team, p.limit))
        return {"runs": [r.model_dump(mode="json") for r in runs]}

    async def runs_status(self, params: Any) -> dict[str, Any]:
        p = _parse(RunIdParams, params, ids.METHOD_RUNS_STATUS)
        run = await self._in_thread(lambda: self.service.run(self.principal, None, p.run_id))
        return run.model_dump(mode="json")

    async def runs_cancel(self, params: Any) -> dict[str, Any]:
        p = _parse(RunIdParams, params, ids.METHOD_RUNS_CANCEL)
        run = await self._in_thread(lambda: self.service.cancel(self.principal, None, p.run_id))
        return {"cancelled": run.status.value not in _TERMINAL, "status": run.status.value}

    async def runs_feedback(self, params: Any) -> dict[str, Any]:
        p = _parse(FeedbackParams, params, ids.METHOD_RUNS_FEEDBACK)
        verdict = AnswerFeedback(verdict=p.verdict, comment=p.comment)
        await self._in_thread(
            lambda: self.service.feedback(self.principal, None, p.run_id, verdict)
        )
        return {"recorded": True}

    async def runs_events(self, params: Any) -> dict[str, Any]:
        p = _parse(AfterParams, params, ids.METHOD_RUNS_EVENTS)
        page = await self._in_thread(
            lambda: self.service.events(self.principal, None, p.run_id, p.after)
        )
        return page.model_dump(mode="json")

    async def runs_subscribe(self, params: Any) -> dict[str, Any]:
        """Stream the run's events after `after` as llmgenie/runEvent notifications (each
        exactly once, in order), until its last one. Re-subscribing replaces the stream."""
        p = _parse(AfterParams, params, ids.METHOD_RUNS_SUBSCRIBE)
        run = await self._in_thread(lambda: self.service.run(self.principal, None, p.run_id))
        team = run.team_id
        if run.user_id == self.principal.user_id:
            self.service.attach(p.run_id, self)  # this editor answers the run's tool calls
            self._pump(p.run_id)
        old = self._subscriptions.pop(p.run_id, None)
        if old is not None:
            old.cancel()
        self._subscriptions[p.run_id] = asyncio.ensure_future(self._stream(team, p.run_id, p.after))
        return {"subscribed": True, "status": run.status.value, "last_seq": run.last_seq}

    async def health(self, params: Any) -> dict[str, Any]:
        health = await asyncio.get_running_loop().run_in_executor(None, self.service.health)
        return {"ok": health.ok, "checks": health.checks, "version": health.version}

    # -- streaming ---------------------------------------------------------------------------

    async def _stream(self, team: str, run_id: str, after: int) -> None:
        last = after
        loop = asyncio.get_running_loop()
        try:
            while self.rpc is not None and not self.rpc.closed:
                events = await loop.run_in_executor(
                    None, functools.partial(self.service.ledger.events_after, run_id, last)
                )
                for event in events:
                    if event.seq != last + 1:  # never skip: re-read from the ledger
                        break
                    await self.rpc.notify(
                        ids.NOTIFY_RUN_EVENT,
                        {
                            "runId": run_id,
                            "seq": event.seq,
                            "kind": event.kind,
                            "message": event.message,
                            "data": event.data,
                        },
                    )
                    last = event.seq
                    if event.kind in ("result", "error") and event.data.get("status") in _TERMINAL:
                        return
                await self.tail.wait(run_id, last, TAIL_WAIT_S)
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            _log.warning("subscription_failed", run_id=run_id, error=repr(exc))

    # -- EditorChannel: the run's tool calls, answered by this editor -----------------------

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        rpc = self.rpc
        if rpc is None or rpc.closed:
            raise ChannelClosed("the editor disconnected")
        future = asyncio.run_coroutine_threadsafe(rpc.request(method, params, timeout), self.loop)
        try:
            return future.result(timeout + 1)
        except TimeoutError:
            future.cancel()
            raise
        except ConnectionError as exc:
            raise ChannelClosed(str(exc)) from exc

    async def ask(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        """A worker's tool call relayed through Redis (CallbackPump), asked on the loop."""
        rpc = self.rpc
        if rpc is None or rpc.closed:
            raise ChannelClosed("the editor disconnected")
        return await rpc.request(method, params, timeout)

    def _pump(self, run_id: str) -> None:
        """With a worker pool: relay the run's tool calls to this editor until it ends."""
        relay = self.service.relay
        old = self._pumps.get(run_id)
        if relay is None or (old is not None and not old.done()):
            return

        async def ended() -> bool:
            status = await asyncio.get_running_loop().run_in_executor(
                None, self.service.ledger.status_of, run_id
            )
            return status is None or status.value in _TERMINAL

        self._pumps[run_id] = asyncio.ensure_future(relay.pump(run_id, self, ended))

    def close(self) -> None:
        for task in [*self._subscriptions.values(), *self._pumps.values()]:
            task.cancel()
        if self.rpc is not None:
            self.rpc.close()
        self.service.detach(self)


async def serve_websocket(websocket: WebSocket, service: TeamService, tail: EventTail) -> None:
    """Accept, authenticate (else close 4001), then relay messages until the peer leaves."""
    await websocket.accept()
    principal = await _authenticate(websocket, service)
    if principal is None:
        return
    session = TeamSession(service, tail, principal)

    async def send(text: str) -> None:
        await websocket.send_text(text)

    session.rpc = JsonRpcConnection(send, session.handlers(), _translate)
    service.sessions.opened(session.id, principal.user_id)
    try:
        while True:
            text = await websocket.receive_text()
            await session.rpc.receive(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        session.close()
        service.sessions.closed(session.id)


async def _authenticate(websocket: WebSocket, service: TeamService) -> Principal | None:
    async def refuse(reason: str) -> None:
        _log.info("websocket_auth_refused", reason=reason)
        with contextlib.suppress(Exception):
            await websocket.close(code=ids.CLOSE_AUTH_FAILED, reason=reason)

    if any(k in websocket.query_params for k in ("token", "access_token", "auth")):
        await refuse("tokens in the query string are refused; use the Authorization header")
        return None
    loop = asyncio.get_running_loop()
    header = websocket.headers.get("authorization")
    credential: str | None = None
    first_id: Any = None
    if header is not None:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer":
            await refuse("Authorization must be 'Bearer <token>'")
            return None
    else:
        try:
            text = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
            message = json.loads(text)
            if message.get("method") != ids.METHOD_AUTHENTICATE:
                raise ValueError("the first message must be llmgenie/authenticate")
            first_id = message.get("id")
            credential = str((message.get("params") or {}).get("token") or "")
        except Exception as exc:
            await refuse(f"not authenticated: {exc}")
            return None
    try:
        principal = await loop.run_in_executor(None, service.authenticate, credential or "")
    except AuthError as exc:
        await refuse(exc.reason)
        return None
    if first_id is not None:
        await websocket.send_json(
            {"jsonrpc": "2.0", "id": first_id, "result": {"authenticated": True}}
        )
    return principal
