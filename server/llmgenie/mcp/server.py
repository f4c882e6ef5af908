"""`llmgenie mcp`: an MCP server (stdio or streamable HTTP) over one workspace.

It only converts: each tool call becomes a call of the Application (app/), the same object
the language server adapts, so search, repo maps and runs behave as in the editor: runs go
through the RunRegistry with the same permissions, redaction, budget and audit. Run events
become MCP progress notifications when the client sent a progressToken; cancelling the
tool call cancels the run. Bad input comes back as an MCP error result (isError), and the
server keeps serving.

An MCP client hands every answer to its own model, so every answer leaves the machine:
each one is redacted (source text, signatures, repo map lines, run messages and diffs) with
the workspace's redactor before it is returned, as the team server's answers are.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from pydantic import Field

from llmgenie import __version__
from llmgenie.app import localization, lookup
from llmgenie.app.application import Application
from llmgenie.app.events import AppEvent, RunEventEmitted
from llmgenie.app.folders import Folder
from llmgenie.app.requests import build_run_request
from llmgenie.app.runs import RunFailed
from llmgenie.config import ConfigError, Settings, load_settings
from llmgenie.contracts.errors import InvalidRequest, RequestFailed
from llmgenie.contracts.ids import CrewName
from llmgenie.contracts.runs import ProposedEdit, RunEvent, RunRequest, RunResult
from llmgenie.observability.logging import get_logger
from llmgenie.wrapper.environment import make_redactor

_log = get_logger(__name__)
SERVER_NAME = "llmgenie"
INSTRUCTIONS = (
    "llmgenie indexes this workspace (symbols, references, hybrid search) and runs agent "
    "crews on it. Paths are relative to the workspace root. localize turns an issue text "
    "into the files and functions it is about. run_crew proposes edits as unified diffs; it "
    "never writes files."
)

RunListener = Callable[[RunEvent], None]
T = TypeVar("T")


class McpSession:
    """The Application for one workspace root, plus what the tools need around it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.app = Application(self._settings_for, self._on_event)
        self._listeners: dict[str, RunListener] = {}
        self._opened = False

    @staticmethod
    def _settings_for(root: Path | None) -> tuple[Settings, list[str]]:
        try:
            return load_settings(root), []
        except ConfigError as exc:
            return Settings.model_construct(), [str(exc)]

    def _on_event(self, event: AppEvent) -> None:
        """Application events: run events go to the tool call waiting for that run."""
        if isinstance(event, RunEventEmitted):
            listener = self._listeners.get(event.event.run_id)
            if listener is not None:
                listener(event.event)

    def open(self) -> None:
        """Register the workspace folder (no engine opens until the first tool call)."""
        if not self._opened:
            self.app.open([self.root])
            self._opened = True
            if self.app.registry.primary() is None:
                raise InvalidRequest(f"{self.root} is not a directory")

    def inside(self, path: str | None) -> Path | None:
        """An absolute path for a workspace-relative (or absolute) one; InvalidRequest when
        it resolves outside the workspace (`..`, symlinks and absolute paths included)."""
        if path is None or not path.strip():
            return None
        resolved = (self.root / path).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise InvalidRequest(f"{path} is outside the workspace {self.root}")
        return resolved

    async def folder(self) -> Folder:
        """The workspace folder with its index brought up to date (incremental: a pass
        with nothing changed only stats files), as `llmgenie search` does."""
        self.open()
        folder = self.app.registry.primary()
        engine = await self.app.engine(folder)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.app.index_pool, engine.index)
        assert folder is not None
        return folder

    async def redacted(self, value: T) -> T:
        """`value` with every string in it redacted (off the event loop: redaction is
        linear, but answers can be long)."""
        folder = self.app.registry.primary()
        redactor = make_redactor(folder.settings if folder is not None else Settings())
        redacted: T = await self.app.in_pool(functools.partial(redactor.redact_value, value))
        return redacted

    def listen(self, run_id: str, listener: RunListener | None) -> None:
        if listener is None:
            self._listeners.pop(run_id, None)
        else:
            self._listeners[run_id] = listener

    async def close(self) -> None:
        if self._opened:
            await self.app.close()


def unified_diff(edit: ProposedEdit, current: str | None) -> str:
    """The edit as a unified diff against the file as it is now (the edit's own old and
    new text when the old text is no longer in the file)."""
    before, after = edit.old_text, edit.new_text
    if current is not None and edit.old_text and edit.old_text in current:
        before, after = current, current.replace(edit.old_text, edit.new_text, 1)
    elif current is None and not edit.old_text:
        before = ""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{edit.path}" if current is not None else "/dev/null",
            tofile=f"b/{edit.path}",
        )
    )


def _fail(exc: Exception) -> ToolError:
    """An application error as the message the client shows (isError result)."""
    if isinstance(exc, RequestFailed):
        return ToolError(f"{exc} ({exc.reason})")
    return ToolError(str(exc))


def build_server(session: McpSession, host: str = "127.0.0.1", port: int = 0) -> FastMCP[Any]:
    """The FastMCP server with llmgenie's tools bound to `session`."""
    server: FastMCP[Any] = FastMCP(
        SERVER_NAME, instructions=INSTRUCTIONS, host=host, port=port, log_level="WARNING"
    )
    server._mcp_server.version = __version__  # FastMCP has no parameter for it

    @server.tool()
    async def search(
        query: Annotated[str, Field(description="Words, identifiers, an error message...")],
        k: Annotated[int, Field(ge=1, le=500, description="Results per list")] = 10,
        focus: Annotated[
            str | None, Field(description="Workspace file to personalise the ranking on")
        ] = None,
    ) -> dict[str, Any]:
        """Hybrid search of the workspace: ranked files and code chunks, each with the
        reasons it ranked (same JSON as `llmgenie search --json`)."""
        try:
            focus_path = session.inside(focus)
            await session.folder()
            _, result = await session.app.search(query, k=k, focus=focus_path)
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted(result.model_dump(exclude={"chunks": {"__all__": {"text"}}}))

    @server.tool()
    async def repo_map(
        focus: Annotated[
            str | None, Field(description="A workspace file to centre the map on")
        ] = None,
        tokens: Annotated[int, Field(ge=16, le=32768, description="Token budget")] = 1024,
    ) -> str:
        """A token-budgeted outline of the most relevant files and their symbols."""
        try:
            focus_path = session.inside(focus)
            await session.folder()
            outline = await session.app.repo_map(focus=focus_path, tokens=tokens)
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted(outline)

    @server.tool()
    async def symbol_context(
        name: Annotated[str, Field(description="A symbol name, simple or qualified")],
    ) -> dict[str, Any]:
        """A symbol's definitions with their source text, and where it is referenced."""
        try:
            await session.folder()
            found = await lookup.symbol_context(session.app, name)
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted(found.model_dump())

    @server.tool()
    async def definitions(
        name: Annotated[str, Field(description="A symbol name, simple or qualified")],
    ) -> dict[str, Any]:
        """Where a symbol is defined (path, 1-based lines, kind, signature)."""
        try:
            await session.folder()
            found = await lookup.definitions(session.app, name)
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted(
            {"name": name, "definitions": [d.model_dump() for d in found]}
        )

    @server.tool()
    async def references(
        name: Annotated[str, Field(description="A symbol name")],
    ) -> dict[str, Any]:
        """Where a name is used (one entry per file and kind of use, 1-based lines)."""
        try:
            await session.folder()
            found = await lookup.references(session.app, name)
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted({"name": name, "references": [r.model_dump() for r in found]})

    @server.tool()
    async def localize(
        task: Annotated[str, Field(min_length=1, description="The issue or task text, verbatim")],
        max_tool_calls: Annotated[
            int, Field(ge=0, le=12, description="Tool calls the model may make")
        ] = 6,
        focus: Annotated[
            str | None, Field(description="Workspace file the task starts from, optional")
        ] = None,
    ) -> dict[str, Any]:
        """Find the files and functions a task or issue is about (before reading code): the
        configured model searches and follows definitions and references in a few tool
        calls; every location is checked against the index and carries its reasons. With
        no model, or when it fails, the search ranking comes back with a note saying so."""
        try:
            focus_path = session.inside(focus)
            await session.folder()
            _, found = await localization.localize(
                session.app, task, focus=focus_path, max_tool_calls=max_tool_calls
            )
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await session.redacted(found.model_dump())

    @server.tool()
    async def run_crew(
        crew: Annotated[CrewName, Field(description="Which crew to run")],
        ctx: Context[Any, Any, Any],
        prompt: Annotated[str, Field(description="What to ask")] = "",
        path: Annotated[str | None, Field(description="Workspace file to work on")] = None,
        start_line: Annotated[int | None, Field(ge=1, description="1-based first line")] = None,
        end_line: Annotated[int | None, Field(ge=1, description="1-based last line")] = None,
    ) -> dict[str, Any]:
        """Run an llmgenie crew (explain, review, fix, tests...) and return its message,
        proposed edits (unified diffs, NOT applied) and findings. Long: reports progress."""
        try:
            target = session.inside(path)
            if (start_line is None) != (end_line is None):
                raise InvalidRequest("give both start_line and end_line, or neither")
            lines = None
            if start_line is not None and end_line is not None:
                if target is None:
                    raise InvalidRequest("a line range needs a path")
                if end_line < start_line:
                    raise InvalidRequest("end_line must be >= start_line")
                lines = (start_line, end_line)
            folder = await session.folder()
            request = build_run_request(
                session.app.registry, crew, path=target, lines=lines, prompt=prompt
            )
        except (InvalidRequest, RequestFailed) as exc:
            raise _fail(exc) from exc
        return await _run(session, ctx, request, folder)

    return server


async def _run(
    session: McpSession, ctx: Context[Any, Any, Any], request: RunRequest, folder: Folder
) -> dict[str, Any]:
    """Start the run, forward its events as progress, wait; a cancelled call cancels it."""
    app = session.app
    count = 0

    def on_event(event: RunEvent) -> None:
        nonlocal count
        if event.kind in ("status", "progress", "tool") and event.message:
            count += 1
            app.spawn(ctx.report_progress(count, None, event.message))

    session.listen(request.run_id, on_event)
    try:
        run_id = await app.runs.start(request, deliver=False)
        try:
            result = await app.runs.wait(run_id)
        except RunFailed as exc:
            raise ToolError(f"the {request.crew} run failed ({exc.reason}): {exc}") from exc
        except asyncio.CancelledError:  # the client cancelled the call (or went away)
            with anyio.CancelScope(shield=True):
                await app.runs.cancel(run_id)
                _log.info("mcp_run_cancelled", run_id=run_id)
            raise
    finally:
        session.listen(request.run_id, None)
    return await _result(session, folder, run_id, result)


async def _result(
    session: McpSession, folder: Folder, run_id: str, result: RunResult
) -> dict[str, Any]:
    """The run's result for the client: edits carry a unified diff against today's file."""
    engine = await session.app.engine(folder)

    def current(rel: str) -> str | None:
        try:
            return engine.read_text(rel)
        except (OSError, ValueError):
            return None

    edits = []
    for edit in result.edits:
        text = await session.app.in_pool(functools.partial(current, edit.path))
        edits.append({**edit.model_dump(), "diff": unified_diff(edit, text)})
    return await session.redacted(
        {
            "run_id": run_id,
            "message": result.message,
            "edits": edits,
            "findings": [f.model_dump() for f in result.findings],
            "model": result.model,
            "tokens": result.tokens,
            "cost_usd": result.cost_usd,
            "applied": False,
        }
    )


def parse_http(address: str) -> tuple[str, int]:
    """`HOST:PORT` or `PORT` (host 127.0.0.1); ValueError otherwise."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"port out of range: {number}")
    return host, number


async def serve(root: Path, http: tuple[str, int] | None, announce: Callable[[str], None]) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    session = McpSession(root)
    session.open()
    server = build_server(session, *(http or ("127.0.0.1", 0)))
    try:
        if http is None:
            await server.run_stdio_async()
            return
        import uvicorn

        host, port = http
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        bound = sock.getsockname()[1]
        config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
        announce(f"llmgenie mcp listening on http://{host}:{bound}/mcp")
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        await session.close()
