"""Read-only queries over the engines, shared by the commands and the custom methods.

Each flushes pending buffer changes first, so the answer reflects what the user typed,
then calls the engine on the interactive pool.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from llmgenie.lsp.errors import InvalidParams, RequestFailed
from llmgenie.lsp.params import ContextArgs, RepoMapArgs, SearchArgs
from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.lsp.session import Session
    from llmgenie.lsp.workspaces import Folder


_log = get_logger(__name__)


async def _engine(session: Session, folder: Folder | None) -> WorkspaceEngine:
    """The folder's engine, opened now if background indexing has not got to it yet."""
    if folder is None:
        raise RequestFailed("No workspace folder is open", "no_workspace")
    if folder.engine is not None:
        return folder.engine
    try:
        engine = await session.in_query_pool(folder.open_engine)
    except Exception as exc:
        raise RequestFailed(
            f"The index of {folder.root.name} cannot be opened: {exc}", "index_unavailable"
        ) from exc
    await session.documents.push_open_documents(folder)
    return engine


def _folder_for(session: Session, uri: str | None) -> tuple[Folder | None, str | None]:
    if uri is None:
        return session.registry.primary(), None
    located = session.registry.locate(uri)
    if located is None:
        raise InvalidParams(f"{uri} is not inside an open workspace folder")
    return located


async def search(session: Session, args: SearchArgs) -> dict[str, Any]:
    """SearchResult JSON; hits also carry `uri` so the editor can open them directly."""
    folder, rel = _folder_for(session, args.focus)
    engine = await _engine(session, folder)
    assert folder is not None
    await session.documents.flush_all()
    run = functools.partial(engine.search, args.query, k=args.k, focus=rel)
    try:
        result = await session.in_query_pool(run)
    except Exception as exc:
        # A search racing a background index commit can trip over a half-updated
        # snapshot; one retry sees the committed state. A second failure is reported.
        _log.warning("search_retry", query=args.query, error=repr(exc))
        try:
            result = await session.in_query_pool(run)
        except Exception as again:
            raise RequestFailed(f"Search failed: {again!r}", "search_failed") from again
    data = result.model_dump(mode="json")
    for hit in data["files"] + data["chunks"]:
        hit["uri"] = session.registry.uri_for(folder, hit["path"])
    return data


async def repo_map(session: Session, args: RepoMapArgs) -> dict[str, Any]:
    folder, rel = _folder_for(session, args.focus)
    engine = await _engine(session, folder)
    await session.documents.flush_all()
    text = await session.in_query_pool(lambda: engine.repo_map(focus=rel, tokens=args.tokens))
    return {"map": text}


async def context(session: Session, args: ContextArgs) -> dict[str, Any]:
    """PositionContext JSON for an LSP position (converted to a 1-based line)."""
    uri = args.text_document.uri
    folder, rel = _folder_for(session, uri)
    engine = await _engine(session, folder)
    await session.documents.flush(uri)
    assert rel is not None
    line, col = args.position.line + 1, args.position.character
    ctx = await session.in_query_pool(lambda: engine.analyze_position(rel, line, col))
    return ctx.model_dump(mode="json")


async def index_health(session: Session) -> dict[str, Any]:
    engine = await _engine(session, session.registry.primary())
    health = await session.in_query_pool(engine.health)
    return health.model_dump(mode="json")
