"""Read-only queries over the engines, shared by the commands and the custom methods.

Each flushes pending buffer changes first, so the answer reflects what the user typed,
then calls the engine on the interactive pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmgenie.lsp.errors import InvalidParams, RequestFailed
from llmgenie.lsp.params import ContextArgs, RepoMapArgs, SearchArgs

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.lsp.session import Session
    from llmgenie.lsp.workspaces import Folder


def _engine(folder: Folder | None) -> WorkspaceEngine:
    if folder is None:
        raise RequestFailed("No workspace folder is open", "no_workspace")
    if folder.engine is None:
        raise RequestFailed(
            f"The index of {folder.root.name} is still opening; retry in a moment",
            "index_not_ready",
        )
    return folder.engine


def _folder_for(session: Session, uri: str | None) -> tuple[Folder | None, str | None]:
    if uri is None:
        return session.registry.primary(), None
    located = session.registry.locate(uri)
    if located is None:
        raise InvalidParams(f"{uri} is not inside an open workspace folder")
    return located


async def search(session: Session, args: SearchArgs) -> dict[str, Any]:
    """SearchResult JSON; hits also carry `uri` so the editor can open them directly."""
    await session.documents.flush_all()
    folder, rel = _folder_for(session, args.focus)
    engine = _engine(folder)
    assert folder is not None
    result = await session.in_query_pool(lambda: engine.search(args.query, k=args.k, focus=rel))
    data = result.model_dump(mode="json")
    for hit in data["files"] + data["chunks"]:
        hit["uri"] = session.registry.uri_for(folder, hit["path"])
    return data


async def repo_map(session: Session, args: RepoMapArgs) -> dict[str, Any]:
    await session.documents.flush_all()
    folder, rel = _folder_for(session, args.focus)
    engine = _engine(folder)
    text = await session.in_query_pool(lambda: engine.repo_map(focus=rel, tokens=args.tokens))
    return {"map": text}


async def context(session: Session, args: ContextArgs) -> dict[str, Any]:
    """PositionContext JSON for an LSP position (converted to a 1-based line)."""
    uri = args.text_document.uri
    await session.documents.flush(uri)
    folder, rel = _folder_for(session, uri)
    engine = _engine(folder)
    assert rel is not None
    line, col = args.position.line + 1, args.position.character
    ctx = await session.in_query_pool(lambda: engine.analyze_position(rel, line, col))
    return ctx.model_dump(mode="json")


async def index_health(session: Session) -> dict[str, Any]:
    folder = session.registry.primary()
    engine = _engine(folder)
    health = await session.in_query_pool(engine.health)
    return health.model_dump(mode="json")
