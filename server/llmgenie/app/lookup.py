"""Definitions and references by name, and a symbol's context (its definition text and
where it is used), over the open folders' engines.

Adapters that name symbols rather than positions (the MCP server, agents' tools) use these;
positions go through `Application.context`.
"""

from __future__ import annotations

import functools

from pydantic import BaseModel, Field

from llmgenie.app.application import Application
from llmgenie.contracts.errors import InvalidRequest
from llmgenie.contracts.symbols import ReferenceInfo, Symbol, SymbolInfo

MAX_DEFINITION_LINES = 200
"""A definition longer than this is cut (with a marker): enough to read, not a whole file."""


class DefinitionText(BaseModel):
    """One definition of a symbol with its source text (1-based inclusive lines)."""

    symbol: SymbolInfo
    text: str
    truncated: bool = False


class SymbolContext(BaseModel):
    """What an assistant needs to reason about a name: where and how it is defined, and
    where it is used."""

    name: str
    definitions: list[DefinitionText] = Field(default_factory=list)
    references: list[ReferenceInfo] = Field(default_factory=list)


def symbol_info(symbol: Symbol) -> SymbolInfo:
    """The JSON shape of an engine Symbol."""
    return SymbolInfo(
        name=symbol.name,
        qualified_name=symbol.qualified_name,
        kind=symbol.kind,
        path=symbol.path,
        start_line=symbol.start_line,
        end_line=symbol.end_line,
        signature=symbol.signature,
        docstring=symbol.docstring,
    )


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidRequest("a symbol name is required")
    return name


async def definitions(app: Application, name: str, limit: int = 50) -> list[SymbolInfo]:
    """Where `name` (simple or qualified) is defined in the primary folder."""
    name = _check_name(name)
    engine = await app.engine(app.registry.primary())
    found = await app.in_pool(lambda: engine.find_definitions(name))
    return [symbol_info(s) for s in found[:limit]]


async def references(app: Application, name: str, limit: int = 200) -> list[ReferenceInfo]:
    """Where `name` is used in the primary folder (one entry per file and kind of use)."""
    name = _check_name(name)
    engine = await app.engine(app.registry.primary())
    found = await app.in_pool(lambda: engine.find_references(name))
    return [
        ReferenceInfo(name=r.name, path=r.path, line=r.line, col=r.col, kind=r.kind)
        for r in found[:limit]
    ]


async def symbol_context(app: Application, name: str, max_definitions: int = 5) -> SymbolContext:
    """`name`'s definitions with their source text, and its references; InvalidRequest
    when nothing of that name is defined."""
    name = _check_name(name)
    engine = await app.engine(app.registry.primary())
    found = await app.in_pool(lambda: engine.find_definitions(name))
    if not found:
        raise InvalidRequest(f"no definition named {name!r} in the index")

    def read(symbol: Symbol) -> DefinitionText:
        lines = engine.read_text(symbol.path).splitlines(keepends=True)
        end = min(symbol.end_line, symbol.start_line + MAX_DEFINITION_LINES - 1)
        text = "".join(lines[symbol.start_line - 1 : end])
        return DefinitionText(
            symbol=symbol_info(symbol), text=text, truncated=end < symbol.end_line
        )

    texts = [await app.in_pool(functools.partial(read, s)) for s in found[:max_definitions]]
    refs = await references(app, name)
    return SymbolContext(name=name, definitions=texts, references=refs)
