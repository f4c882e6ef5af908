"""Text document sync: the editor's buffers flow into the index (pygls keeps the text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer


def register(server: LlmgenieServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LlmgenieServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.session.documents.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LlmgenieServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.session.documents.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: LlmgenieServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.session.documents.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LlmgenieServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.session.documents.closed(params.text_document.uri)
