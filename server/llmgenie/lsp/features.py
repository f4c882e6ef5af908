"""One small function per LSP feature: convert the request, call the Application, convert
the answer. Nothing is decided here (see llmgenie.app).

Positions: LSP lines are 0-based, llmgenie's are 1-based inclusive; columns are counted in
the negotiated encoding and converted in positions.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from llmgenie.app import localization
from llmgenie.app.actions import ActionContext, SuggestedAction, suggest_actions, wanted
from llmgenie.app.requests import ChatTurn, build_run_request
from llmgenie.app.runs import RunFailed
from llmgenie.contracts import ids
from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.protocol import (
    ChatArgs,
    ConfigureModelArgs,
    ContextArgs,
    FeedbackArgs,
    KnowledgeArgs,
    LocalizeArgs,
    NoArgs,
    RepoMapArgs,
    RunCrewArgs,
    RunIdArgs,
    SearchArgs,
    TeamRunsArgs,
    WireRange,
    command_argument,
    parse_params,
)
from llmgenie.contracts.runs import RunRecord
from llmgenie.lsp.errors import RequestFailed, answers
from llmgenie.lsp.options import parse_init_options
from llmgenie.lsp.positions import to_one_based_lines
from llmgenie.lsp.server import LlmgenieServer
from llmgenie.lsp.uris import path_to_uri, uri_to_path
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

# VS Code language ids that differ from llmgenie's.
_LANGUAGE_IDS = {"typescriptreact": "tsx", "javascriptreact": "javascript", "shellscript": "bash"}


# -- conversions ------------------------------------------------------------------------------


def _path(uri: str | None) -> Path | None:
    """The path of a document URI; InvalidRequest for URIs that are not local files."""
    if uri is None:
        return None
    path = uri_to_path(uri)
    if path is None:
        raise InvalidRequest(f"{uri} is not a local file")
    return path


def _lines(rng: WireRange | types.Range | None) -> tuple[int, int] | None:
    if rng is None:
        return None
    return to_one_based_lines(
        types.Range(
            start=types.Position(line=rng.start.line, character=rng.start.character),
            end=types.Position(line=rng.end.line, character=rng.end.character),
        )
    )


def _diagnostic_text(diagnostic: str | dict[str, Any] | None) -> str | None:
    if isinstance(diagnostic, dict):
        message = diagnostic.get("message")
        return str(message) if message is not None else None
    return diagnostic


def _language(path: Path | None, language_id: str | None) -> str | None:
    from llmgenie.context.languages import language_for_path

    lang = language_for_path(path.name) if path is not None else None
    if lang is None and language_id and language_id != "plaintext":
        lang = _LANGUAGE_IDS.get(language_id, language_id)
    return lang


def _range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _code_action(
    action: SuggestedAction, uri: str, params: types.CodeActionParams
) -> types.CodeAction:
    """An unresolved CodeAction carrying the runCrew arguments as its data (or, for a
    command action, the command itself)."""
    if action.command is not None:
        command = types.Command(title=action.title, command=action.command, arguments=[{}])
        return types.CodeAction(title=action.title, kind=action.kind, command=command)
    diagnostics = params.context.diagnostics
    rng = params.range
    if action.diagnostic is not None:
        rng = diagnostics[action.diagnostic].range
    elif action.span is not None:
        rng = types.Range(
            start=types.Position(line=action.span.start - 1, character=0),
            end=types.Position(line=action.span.end, character=0),
        )
    data = {"crew": action.crew, "uri": uri, "range": _range_json(rng), **action.extra}
    code_action = types.CodeAction(title=action.title, kind=action.kind, data=data)
    if action.diagnostic is not None:
        code_action.diagnostics = [diagnostics[action.diagnostic]]
    return code_action


def _run_summary(record: RunRecord) -> dict[str, Any]:
    """A RunRecord without its bulky result body (runs/status has everything), with the
    crew, path and the result's edit/finding counts for lists."""
    data = record.model_dump(mode="json", exclude={"result"})
    result = record.result
    return {
        **data,
        "crew": record.request.crew,
        "path": record.request.path,
        "message": (result.message if result else "")[:200],
        "edits": len(result.edits) if result else 0,
        "findings": len(result.findings) if result else 0,
    }


# -- lifecycle --------------------------------------------------------------------------------


def initialize(ls: LlmgenieServer, params: types.InitializeParams) -> None:
    ls.options, problems = parse_init_options(params.initialization_options)
    ls.app.problems += problems
    folders = list(params.workspace_folders or [])
    if not folders and params.root_uri:
        folders = [types.WorkspaceFolder(uri=params.root_uri, name="root")]
    paths = []
    for folder in folders:
        path = uri_to_path(folder.uri)
        if path is None:
            ls.app.problems.append(f"workspace folder {folder.uri} is not a local directory")
        else:
            paths.append(path)
    ls.app.open(paths)
    _connect_team_server(ls)


def _connect_team_server(ls: LlmgenieServer) -> None:
    """With a team server configured, heavy crews may be delegated to it: the editor's
    token (SecretStorage), else this machine's `llmgenie login`."""
    team = ls.app.settings.team
    if not team.url:
        return
    from llmgenie.app.remote import ToolAnswers
    from llmgenie.config import KEY_WITHHELD
    from llmgenie.remote.client import TeamClient, saved_credentials

    # The editor's or user's token only goes to the server it was configured for.
    token = ls.app.settings.credential("team", team.url)
    if token is None or token == KEY_WITHHELD:
        saved = saved_credentials(team.url)
        token = saved[1] if saved else ""
    answers = ToolAnswers(ls.app.registry, lambda: ls.app.settings)
    client = TeamClient(team.url, token, answers.answer, ls.app.remote_state_changed)
    ls.app.use_team_server(client)


async def initialized(ls: LlmgenieServer, params: types.InitializedParams) -> None:
    ls.app.start()
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if watched is None or not watched.dynamic_registration:
        return
    registration = types.Registration(
        id="llmgenie-watched-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
        ),
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception as exc:
        _log.warning("watcher_registration_failed", error=str(exc))


async def shutdown(ls: LlmgenieServer, params: None) -> None:
    await ls.app.close()


async def folders_changed(
    ls: LlmgenieServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    added = [p for f in params.event.added if (p := uri_to_path(f.uri)) is not None]
    removed = [p for f in params.event.removed if (p := uri_to_path(f.uri)) is not None]
    await ls.app.change_folders(added, removed)


async def watched_files_changed(
    ls: LlmgenieServer, params: types.DidChangeWatchedFilesParams
) -> None:
    open_docs = ls.workspace.text_documents
    paths = [
        p
        for c in params.changes
        if c.uri not in open_docs and (p := uri_to_path(c.uri)) is not None
    ]
    await ls.app.files_changed(paths)


def progress_cancelled(ls: LlmgenieServer, params: types.WorkDoneProgressCancelParams) -> None:
    ls.app.cancel_progress(str(params.token))


# -- text document sync (pygls keeps the text; the index follows) ----------------------------


def did_open(ls: LlmgenieServer, params: types.DidOpenTextDocumentParams) -> None:
    if (path := uri_to_path(params.text_document.uri)) is not None:
        ls.app.documents.opened(path)


def did_change(ls: LlmgenieServer, params: types.DidChangeTextDocumentParams) -> None:
    if (path := uri_to_path(params.text_document.uri)) is not None:
        ls.app.documents.changed(path)


def did_save(ls: LlmgenieServer, params: types.DidSaveTextDocumentParams) -> None:
    if (path := uri_to_path(params.text_document.uri)) is not None:
        ls.app.documents.saved(path)


def did_close(ls: LlmgenieServer, params: types.DidCloseTextDocumentParams) -> None:
    if (path := uri_to_path(params.text_document.uri)) is not None:
        ls.app.documents.closed(path)


# -- code actions (no model call in either) -----------------------------------------------------


async def code_action(ls: LlmgenieServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    path = uri_to_path(uri)
    located = ls.app.registry.locate(path) if path is not None else None
    doc = ls.workspace.text_documents.get(uri)
    rng = params.range
    ctx = ActionContext(
        rel_path=located[1] if located else None,
        language=_language(path, doc.language_id if doc else None),
        cursor_line=rng.start.line + 1,
        has_selection=rng.start != rng.end,
        symbols=await ls.app.symbols(path) if path is not None and located else [],
        diagnostics=[d.message for d in params.context.diagnostics],
        traits=located[0].traits if located else {},
        team_server=ls.app.runs.remote is not None,
        model_configured=bool(ls.app.settings.llm.model),
    )
    return [
        _code_action(action, uri, params)
        for action in suggest_actions(ctx)
        if wanted(action.kind, params.context.only)
    ]


def code_action_resolve(ls: LlmgenieServer, params: types.CodeAction) -> types.CodeAction:
    """Attach the runCrew command carrying the action's data (no model call)."""
    if isinstance(params.data, dict) and "crew" in params.data:
        params.command = types.Command(
            title=params.title, command=ids.COMMAND_RUN_CREW, arguments=[params.data]
        )
    return params


# -- commands (workspace/executeCommand) ------------------------------------------------------


@answers
async def run_crew(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
    a = parse_params(
        RunCrewArgs, command_argument(args, ids.COMMAND_RUN_CREW), ids.COMMAND_RUN_CREW
    )
    request = build_run_request(
        ls.app.registry,
        a.crew,
        path=_path(a.uri),
        lines=_lines(a.range),
        prompt=a.prompt,
        diagnostic=_diagnostic_text(a.diagnostic),
    )
    trace = {"traceparent": a.traceparent} if a.traceparent else None
    run_id = await ls.app.runs.start(request, deliver=True, remote=a.remote, trace=trace)
    return {"runId": run_id}


@answers
def reindex(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
    parse_params(NoArgs, command_argument(args, ids.COMMAND_REINDEX), ids.COMMAND_REINDEX)
    ls.app.indexing.rebuild()
    return {"started": True}


@answers
def pause_indexing(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
    parse_params(NoArgs, command_argument(args, ids.COMMAND_PAUSE_INDEXING), "pauseIndexing")
    return {"paused": ls.app.indexing.pause()}


@answers
def resume_indexing(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
    parse_params(NoArgs, command_argument(args, ids.COMMAND_RESUME_INDEXING), "resumeIndexing")
    return {"paused": ls.app.indexing.resume()}


@answers
def configure_model(ls: LlmgenieServer, *args: Any) -> dict[str, Any]:
    """No model yet: say how to set one, and which local model could be used right away."""
    raw = args[0] if args else {}
    quiet = parse_params(ConfigureModelArgs, raw, ids.COMMAND_CONFIGURE_MODEL).quiet
    setup = ls.app.model_setup()
    if not quiet:
        message = f"llmgenie: {setup['message']}"
        info = types.MessageType.Info
        ls.window_show_message(types.ShowMessageParams(type=info, message=message))
    return setup


# -- custom requests (llmgenie/…) ---------------------------------------------------------------


@answers
async def chat(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """Stream the answer as runEvent deltas; $/cancelRequest stops the run end to end."""
    a = parse_params(ChatArgs, params, ids.METHOD_CHAT)
    request = build_run_request(
        ls.app.registry,
        "chat",
        path=_path(a.uri),
        lines=_lines(a.range),
        prompt=a.prompt,
        history=[ChatTurn(m.role, m.content) for m in a.history],
        model=a.model,
    )
    runs = ls.app.runs
    run_id = await runs.start(request, deliver=False)
    try:
        result = await runs.wait(run_id)
    except asyncio.CancelledError:
        # The client cancelled this request: stop the run (and its model call) too.
        await asyncio.shield(runs.cancel(run_id))
        raise
    except RunFailed as exc:
        if exc.reason == "cancelled":
            return {"runId": run_id, "text": runs.partial_text(run_id), "cancelled": True}
        raise RequestFailed(str(exc), exc.reason, runId=run_id) from exc
    return {"runId": run_id, "text": result.message, "model": result.model}


@answers
async def search(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """SearchResult JSON; hits also carry `uri` so the editor can open them directly."""
    a = parse_params(SearchArgs, params, ids.METHOD_SEARCH)
    folder, result = await ls.app.search(a.query, a.k, _path(a.focus))
    data = result.model_dump(mode="json")
    for hit in data["files"] + data["chunks"]:
        hit["uri"] = path_to_uri(folder.root / hit["path"])
    return data


@answers
async def localize(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """Localization JSON: the files and functions a task is about, with reasons (the model's
    few tool calls when one is configured, else search); hits carry `uri`. Cancellable."""
    a = parse_params(LocalizeArgs, params, ids.METHOD_LOCALIZE)
    folder, found = await localization.localize(
        ls.app, a.task, focus=_path(a.focus), max_tool_calls=a.max_tool_calls
    )
    data = found.model_dump(mode="json")
    for hit in data["hits"]:
        hit["uri"] = path_to_uri(folder.root / hit["path"])
    return data


@answers
async def knowledge(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """Guidance passages (curated knowledge, then the workspace's docs) for a query; the
    workspace's passages carry `uri`."""
    a = parse_params(KnowledgeArgs, params, ids.METHOD_KNOWLEDGE)
    folder, hits = await ls.app.knowledge(a.query, a.k, _path(a.focus))
    out = []
    for hit in hits:
        data = hit.model_dump(mode="json")
        if hit.source == "workspace":
            data["uri"] = path_to_uri(folder.root / hit.path)
        out.append(data)
    return {"query": a.query, "hits": out}


@answers
async def context(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """PositionContext JSON for an LSP position."""
    a = parse_params(ContextArgs, params, ids.METHOD_CONTEXT)
    path = _path(a.text_document.uri)
    assert path is not None
    ctx = await ls.app.context(path, a.position.line + 1)
    return ctx.model_dump(mode="json")


@answers
async def repo_map(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """A token-budgeted outline of the workspace, centred on `focus` (a document URI)."""
    a = parse_params(RepoMapArgs, params, ids.METHOD_REPO_MAP)
    return {"map": await ls.app.repo_map(_path(a.focus), a.tokens)}


@answers
async def runs_list(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    parse_params(NoArgs, params, ids.METHOD_RUNS_LIST)
    return {"runs": [_run_summary(r) for r in await ls.app.runs.records()]}


@answers
async def runs_status(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    a = parse_params(RunIdArgs, params, ids.METHOD_RUNS_STATUS)
    record = await ls.app.runs.record(a.run_id)
    if record is None:
        raise RequestFailed(f"Unknown run {a.run_id}", "unknown_run", runId=a.run_id)
    return record.model_dump(mode="json")


@answers
async def runs_cancel(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    a = parse_params(RunIdArgs, params, ids.METHOD_RUNS_CANCEL)
    return {"cancelled": await ls.app.runs.cancel(a.run_id)}


@answers
async def runs_feedback(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """A user's verdict on a run's answer (the chat's thumbs): audited and counted."""
    a = parse_params(FeedbackArgs, params, ids.METHOD_RUNS_FEEDBACK)
    if not await ls.app.runs.record_feedback(a.run_id, a.verdict, a.comment):
        raise RequestFailed(f"Unknown run {a.run_id}", "unknown_run", runId=a.run_id)
    return {"recorded": True}


@answers
async def team_runs(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    """The team server's runs (for the editor's team runs view)."""
    a = parse_params(TeamRunsArgs, params, ids.METHOD_TEAM_RUNS)
    remote = ls.app.runs.remote
    if remote is None:
        raise RequestFailed("No team server is configured", "no_team_server")
    try:
        runs = await remote.runs(a.limit)
    except ConnectionError as exc:
        raise RequestFailed(f"The team server is unavailable: {exc}", "team_unavailable") from exc
    return {"runs": runs}


@answers
async def health(ls: LlmgenieServer, params: Any) -> dict[str, Any]:
    parse_params(NoArgs, params, ids.METHOD_HEALTH)
    return (await ls.app.health()).model_dump(mode="json")


# -- registration -------------------------------------------------------------------------------

COMMANDS = {
    ids.COMMAND_RUN_CREW: run_crew,
    ids.COMMAND_REINDEX: reindex,
    ids.COMMAND_PAUSE_INDEXING: pause_indexing,
    ids.COMMAND_RESUME_INDEXING: resume_indexing,
    ids.COMMAND_CONFIGURE_MODEL: configure_model,
}
REQUESTS = {
    ids.METHOD_CHAT: chat,
    ids.METHOD_SEARCH: search,
    ids.METHOD_CONTEXT: context,
    ids.METHOD_REPO_MAP: repo_map,
    ids.METHOD_RUNS_LIST: runs_list,
    ids.METHOD_RUNS_STATUS: runs_status,
    ids.METHOD_RUNS_CANCEL: runs_cancel,
    ids.METHOD_HEALTH: health,
    ids.METHOD_TEAM_RUNS: team_runs,
    ids.METHOD_LOCALIZE: localize,
    ids.METHOD_RUNS_FEEDBACK: runs_feedback,
    ids.METHOD_KNOWLEDGE: knowledge,
}


def register(server: LlmgenieServer) -> None:
    """Register every feature on `server` (the lists in contracts/ids.py, checked here)."""
    assert tuple(COMMANDS) == ids.COMMANDS and tuple(REQUESTS) == ids.REQUESTS
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.SHUTDOWN)(shutdown)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(folders_changed)
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(watched_files_changed)
    server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(progress_cancelled)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(did_save)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=list(ids.CODE_ACTION_KINDS), resolve_provider=True
        ),
    )(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(code_action_resolve)
    for name, command in COMMANDS.items():
        server.command(name)(command)
    for method, handler in REQUESTS.items():
        server.feature(method)(handler)


def create_server() -> LlmgenieServer:
    """A language server with every llmgenie feature registered."""
    server = LlmgenieServer()
    register(server)
    return server
