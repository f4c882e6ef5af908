"""Plain records the parser produces and the index stores.

Lines are 1-based and inclusive everywhere in llmgenie's own models (the LSP layer converts
to 0-based); columns are 0-based. Paths are workspace-relative with forward slashes.
These are slotted dataclasses, not pydantic models, because the indexer creates millions.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable slice of a file, cut at symbol (or section) boundaries with a size cap."""

    path: str
    start_line: int
    end_line: int
    text: str
    symbol: str | None = None
    kind: str = "code"

    @property
    def chunk_id(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(slots=True)
class ParsedFile:
    """Everything extracted from one file in one parse."""

    path: str
    language: str | None
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    has_errors: bool = False
