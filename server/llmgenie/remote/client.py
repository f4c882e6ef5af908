"""TeamClient: the editor's connection to a team server (used by `llmgenie serve`).

It submits delegated runs with their redacted context bundle, follows their events and
answers the remote agents' tool calls from the local index. Run state lives on the
server, so a dropped connection only delays events: the client reconnects with backoff and
re-subscribes to each live run after the last sequence number it delivered, so every event
arrives exactly once, in order. An authentication failure (close code 4001, or a refused
token) is not a network drop: the client stops, reports "signed_out" and never retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from llmgenie.app.remote import ConnectionState
from llmgenie.config import user_config_path
from llmgenie.contracts import ids
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunEvent, RunRequest
from llmgenie.observability.logging import get_logger
from llmgenie.observability.tracing import carrier, tracer
from llmgenie.remote.auth import REFRESH_PREFIX
from llmgenie.remote.rpc import Handler, JsonRpcConnection, RpcError

_log = get_logger(__name__)

Answer = Callable[[RunRequest, str, dict[str, Any]], Any]
"""(the run's local request, callback method, params) -> JSON answer (blocking)."""
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)
REQUEST_TIMEOUT_S = 30.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def credentials_path() -> Path:
    """Where `llmgenie login` keeps this user's team-server sign-in (mode 0600)."""
    return user_config_path().parent / "team-credentials.json"


def saved_credentials(url: str | None) -> tuple[str, str] | None:
    """(url, refresh token) saved by `llmgenie login`, if any (and for `url`, if given)."""
    path = credentials_path()
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        saved_url, token = str(saved["url"]), str(saved["refresh_token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if url is not None and url.rstrip("/") != saved_url.rstrip("/"):
        return None
    return saved_url, token


class SignedOut(ConnectionError):
    """The server refused our credentials: the user must sign in again."""


@dataclass
class _Run:
    request: RunRequest
    server_id: str
    on_event: Callable[[RunEvent], None]
    last_seq: int = 0
    done: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class TeamClient:
    """One editor session's link to one team server."""

    def __init__(
        self,
        url: str,
        token: str,
        answer: Answer,
        on_state: Callable[[ConnectionState, str | None], None],
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._answer = answer
        self._on_state = on_state
        self.state: ConnectionState = "off"
        self.reason: str | None = None
        self._runs: dict[str, _Run] = {}  # by server run id
        self._by_local: dict[str, str] = {}
        self._socket: ClientConnection | None = None
        self._rpc: JsonRpcConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self._reconnecting: asyncio.Future[None] | None = None
        self._closed = False

    # -- the RemoteRuns protocol --------------------------------------------------------------

    async def start(
        self, request: RunRequest, context: AnalyzedContext, on_event: Callable[[RunEvent], None]
    ) -> None:
        rpc = await self._connected()
        with tracer().start_as_current_span(
            "run.delegate",
            attributes={"llmgenie.crew": request.crew, "llmgenie.run_id": request.run_id},
        ):
            server_id = await self._submit(rpc, request, context)
        self._runs[server_id] = _Run(request, server_id, on_event)
        self._by_local[request.run_id] = server_id
        await self._subscribe(rpc, self._runs[server_id])

    async def _submit(
        self, rpc: JsonRpcConnection, request: RunRequest, context: AnalyzedContext
    ) -> str:
        """The team server's id of the run (the submit carries this process's trace)."""
        args = {
            "crew": request.crew,
            "prompt": request.prompt,
            "path": request.path,
            "range": request.range.model_dump() if request.range else None,
            "diagnostic": request.diagnostic,
            "model": request.model,
            "workspace": request.workspace,
            "context": context.model_dump(mode="json"),
            "idempotencyKey": request.run_id,
        }
        traceparent = carrier().get("traceparent")
        if traceparent:
            args["traceparent"] = traceparent
        started = await rpc.request(
            "workspace/executeCommand",
            {"command": ids.COMMAND_RUN_CREW, "arguments": [args]},
            REQUEST_TIMEOUT_S,
        )
        return str(started["runId"])

    async def cancel(self, run_id: str) -> bool:
        server_id = self._by_local.get(run_id, run_id)
        rpc = await self._connected()
        answer = await rpc.request(ids.METHOD_RUNS_CANCEL, {"runId": server_id}, REQUEST_TIMEOUT_S)
        return bool(answer.get("cancelled"))

    async def feedback(self, run_id: str, verdict: str, comment: str | None) -> None:
        server_id = self._by_local.get(run_id, run_id)
        rpc = await self._connected()
        params: dict[str, Any] = {"runId": server_id, "verdict": verdict}
        if comment:
            params["comment"] = comment
        await rpc.request(ids.METHOD_RUNS_FEEDBACK, params, REQUEST_TIMEOUT_S)

    async def runs(self, limit: int) -> list[dict[str, Any]]:
        rpc = await self._connected()
        answer = await rpc.request(ids.METHOD_RUNS_LIST, {"limit": limit}, REQUEST_TIMEOUT_S)
        return list(answer.get("runs", []))

    async def connect(self) -> None:
        """Connect now (the status shows the result); errors are reported, not raised."""
        with contextlib.suppress(ConnectionError):
            await self._connected()

    async def close(self) -> None:
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._rpc is not None:
            self._rpc.close()

    # -- connection ---------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState, reason: str | None = None) -> None:
        if (state, reason) != (self.state, self.reason):
            self.state, self.reason = state, reason
            self._on_state(state, reason)

    async def _connected(self) -> JsonRpcConnection:
        """The live connection, connecting first if needed (SignedOut, ConnectionError)."""
        if self.state == "signed_out":
            raise SignedOut(self.reason or "signed out")
        if self._rpc is not None and not self._rpc.closed:
            return self._rpc
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._rpc is None or self._rpc.closed:
                await self._connect()
        assert self._rpc is not None
        return self._rpc

    async def _access_token(self) -> str:
        """A bearer credential: a personal token as is; a refresh token exchanged for a
        fresh access token."""
        if not self._token.startswith(REFRESH_PREFIX + "_"):
            return self._token
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as http:
            response = await http.post(
                f"{self.url}/api/v1/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": self._token},
            )
        if response.status_code in (400, 401):
            raise SignedOut(response.json().get("message", "sign-in expired"))
        response.raise_for_status()
        return str(response.json()["access_token"])

    async def _connect(self) -> None:
        self._set_state("connecting")
        ws_url = self.url.replace("https://", "wss://").replace("http://", "ws://") + "/lsp"
        try:
            bearer = await self._access_token()
            socket = await connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {bearer}"},
                proxy=None,
                max_size=MAX_MESSAGE_BYTES,
                open_timeout=REQUEST_TIMEOUT_S,
            )
        except SignedOut as exc:
            self._set_state("signed_out", str(exc))
            raise
        except InvalidStatus as exc:
            self._set_state("unreachable", f"HTTP {exc.response.status_code}")
            raise ConnectionError(f"team server refused the connection: {exc}") from exc
        except (OSError, httpx.HTTPError, TimeoutError) as exc:
            self._set_state("unreachable", str(exc) or type(exc).__name__)
            raise ConnectionError(f"team server unreachable: {exc}") from exc

        async def send(text: str) -> None:
            await socket.send(text)

        handlers: dict[str, Handler] = {
            name: functools.partial(self._callback, name) for name in ids.CALLBACKS
        }
        handlers[ids.NOTIFY_RUN_EVENT] = self._run_event
        rpc = JsonRpcConnection(send, handlers)
        self._socket, self._rpc = socket, rpc
        self._reader = asyncio.ensure_future(self._read(socket, rpc))
        try:
            await rpc.request("initialize", {}, REQUEST_TIMEOUT_S)
        except Exception as exc:
            await self._dropped(socket, rpc)
            raise ConnectionError(f"team server handshake failed: {exc}") from exc
        self._set_state("connected")

    async def _read(self, socket: ClientConnection, rpc: JsonRpcConnection) -> None:
        try:
            async for message in socket:
                await rpc.receive(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        finally:
            await self._dropped(socket, rpc)

    async def _dropped(self, socket: ClientConnection, rpc: JsonRpcConnection) -> None:
        """The socket closed: sign out on 4001, otherwise reconnect while runs are live."""
        rpc.close()
        if self._closed or self._rpc is not rpc:
            return
        code = socket.close_code
        if code == ids.CLOSE_AUTH_FAILED:
            self._set_state("signed_out", socket.close_reason or "authentication failed")
            return
        self._set_state("unreachable", f"connection closed ({code})")
        live = any(not run.done for run in self._runs.values())
        if live and (self._reconnecting is None or self._reconnecting.done()):
            self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with backoff, then resume each live run after its last event."""
        for attempt in range(1_000_000):
            if self._closed or self.state == "signed_out":
                return
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            await asyncio.sleep(delay * (0.5 + random.random()))
            try:
                rpc = await self._connected()
            except SignedOut:
                return
            except ConnectionError:
                continue
            for run in list(self._runs.values()):
                if not run.done:
                    await self._subscribe(rpc, run)
            return

    async def _subscribe(self, rpc: JsonRpcConnection, run: _Run) -> None:
        params = {"runId": run.server_id, "after": run.last_seq}
        await rpc.request(ids.METHOD_RUNS_SUBSCRIBE, params, REQUEST_TIMEOUT_S)

    # -- what the server sends ------------------------------------------------------------------

    async def _run_event(self, params: Any) -> None:
        """Deliver each event once, in order (duplicates after a resume are dropped)."""
        run = self._runs.get(str(params.get("runId")))
        if run is None:
            return
        seq = int(params.get("seq", 0))
        async with run.lock:
            if seq <= run.last_seq or run.done:
                return
            run.last_seq = seq
            event = RunEvent(
                run_id=run.request.run_id,
                kind=params.get("kind", "status"),
                message=str(params.get("message", "")),
                data={**(params.get("data") or {}), "seq": seq, "remote": True},
            )
            if event.kind in ("result", "error") and event.data.get("status") in (
                "succeeded",
                "failed",
                "cancelled",
            ):
                run.done = True
            run.on_event(event)

    async def _callback(self, method: str, params: Any) -> Any:
        """A remote agent's tool call: answered from the local index (redacted)."""
        run_id = params.pop("runId", None) if isinstance(params, dict) else None
        run = self._runs.get(str(run_id)) if run_id else None
        if run is None:
            live = [r for r in self._runs.values() if not r.done]
            if len(live) != 1:
                raise RpcError(-32602, "callback without a run this editor is running")
            run = live[0]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._answer, run.request, method, params or {})
