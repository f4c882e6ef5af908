"""textDocument/codeAction and codeAction/resolve (no model call in either)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from llmgenie.context.models import Symbol
from llmgenie.lsp.actions import ADVERTISED_KINDS, ActionContext, compute_actions, resolve_action
from llmgenie.lsp.workspaces import uri_to_path
from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer

_log = get_logger(__name__)

# VS Code language ids that differ from llmgenie's.
_LANGUAGE_IDS = {"typescriptreact": "tsx", "javascriptreact": "javascript", "shellscript": "bash"}


def _language(uri: str, language_id: str | None) -> str | None:
    from llmgenie.context.languages import language_for_path

    path = uri_to_path(uri)
    lang = language_for_path(path.name) if path is not None else None
    if lang is None and language_id and language_id != "plaintext":
        lang = _LANGUAGE_IDS.get(language_id, language_id)
    return lang


def register(server: LlmgenieServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=ADVERTISED_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: LlmgenieServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        uri = params.text_document.uri
        session = ls.session
        doc = ls.workspace.text_documents.get(uri)
        located = session.registry.locate(uri)
        symbols: list[Symbol] = []
        traits: dict[str, bool] = {}
        rel = None
        if located is not None:
            folder, rel = located
            traits = folder.traits
            engine = folder.engine
            cached = session.symbol_cache.get(uri)
            if cached is not None:
                symbols = cached
            elif engine is not None:
                generation = session.index_generation
                try:
                    symbols = await session.in_query_pool(lambda: engine.symbols(rel))
                    if generation == session.index_generation:  # nothing re-indexed meanwhile
                        session.symbol_cache[uri] = symbols
                except Exception as exc:  # not indexed yet, oversize, deleted: act without
                    _log.debug("symbols_unavailable", path=rel, error=str(exc))
        ctx = ActionContext(
            uri=uri,
            range=params.range,
            language=_language(uri, doc.language_id if doc else None),
            rel_path=rel,
            symbols=symbols,
            diagnostics=params.context.diagnostics,
            traits=traits,
            only=params.context.only,
        )
        return compute_actions(ctx)

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: LlmgenieServer, params: types.CodeAction) -> types.CodeAction:
        return resolve_action(params)
