"""Definitions, references and the context around a position, as they leave the engine.

Lines are 1-based and inclusive; columns are 0-based; paths are workspace-relative with
forward slashes. Symbol and Reference are slotted dataclasses, not pydantic models, because
the indexer creates millions; the *Info models are their JSON shapes at boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from llmgenie.contracts.search import ChunkHit


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition: function, method, class, struct, interface, enum, constant, section..."""

    name: str
    qualified_name: str
    kind: str
    path: str
    start_line: int
    end_line: int
    start_col: int = 0
    signature: str = ""
    docstring: str = ""
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A use of an identifier (`kind` is "call", "ref", "type" or "import").

    The parser keeps one Reference per (name, kind) and file: the first use, with `count`
    saying how many uses of that kind the file has.
    """

    name: str
    path: str
    line: int
    col: int
    kind: str = "ref"
    count: int = 1


class SymbolInfo(BaseModel):
    name: str
    qualified_name: str
    kind: str
    path: str
    start_line: int
    end_line: int
    signature: str = ""
    docstring: str = ""


class ReferenceInfo(BaseModel):
    name: str
    path: str
    line: int
    col: int
    kind: str


class PositionContext(BaseModel):
    """Context analysis for a cursor position: what the agents and the editor need."""

    path: str
    line: int
    language: str | None
    enclosing_symbol: SymbolInfo | None = None
    related_definitions: list[SymbolInfo] = Field(default_factory=list)
    references: list[ReferenceInfo] = Field(default_factory=list)
    chunks: list[ChunkHit] = Field(default_factory=list)
