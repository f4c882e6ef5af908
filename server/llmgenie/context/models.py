"""Plain records the parser produces and the index stores (Symbol and Reference, which
leave the engine, are contracts: llmgenie.contracts.symbols).

Lines are 1-based and inclusive everywhere in llmgenie's own models (the LSP layer converts
to 0-based); columns are 0-based. Paths are workspace-relative with forward slashes.
These are slotted dataclasses, not pydantic models, because the indexer creates millions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmgenie.contracts.symbols import Reference, Symbol


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
