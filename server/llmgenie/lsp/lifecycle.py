"""Lifecycle handlers: initialize, initialized, shutdown, exit, folders, watched files, and
work-done-progress cancellation from the editor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer

_log = get_logger(__name__)


def register(server: LlmgenieServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: LlmgenieServer, params: types.InitializeParams) -> None:
        ls.session.initialize(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: LlmgenieServer, params: types.InitializedParams) -> None:
        await ls.session.initialized()

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: LlmgenieServer, params: None) -> None:
        await ls.session.shutdown()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(
        ls: LlmgenieServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        await ls.session.change_folders(
            [f.uri for f in params.event.added], [f.uri for f in params.event.removed]
        )

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files_changed(
        ls: LlmgenieServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        await ls.session.files_changed([(c.uri, c.type) for c in params.changes])

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancelled(ls: LlmgenieServer, params: types.WorkDoneProgressCancelParams) -> None:
        handler = ls.session.progress_cancel_handlers.pop(str(params.token), None)
        _log.info("progress_cancelled", token=params.token, known=handler is not None)
        if handler is not None:
            handler()
