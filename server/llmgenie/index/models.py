"""Summaries the index reports to the CLI, the LSP layer and the agents."""

from __future__ import annotations

from pydantic import BaseModel, Field

from llmgenie.retrieval.models import ChunkHit


class IndexSummary(BaseModel):
    """Outcome of one `index()` pass."""

    files: int = Field(description="files in the index after the pass")
    indexed: int = Field(description="files (re)parsed in this pass")
    removed: int = 0
    skipped: dict[str, int] = Field(default_factory=dict, description="reason -> count")
    symbols: int = 0
    chunks: int = 0
    seconds: float = 0.0
    cancelled: bool = False


class IndexHealth(BaseModel):
    """What `llmgenie doctor` and `llmgenie/health` show."""

    root: str
    index_path: str
    files: int
    symbols: int
    references: int
    chunks: int
    vectors: int
    stale_files: list[str] = Field(default_factory=list)
    embedding_provider: str | None = None
    embedding_status: str = ""
    degraded: list[str] = Field(default_factory=list)
    last_indexed_at: float | None = None


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
