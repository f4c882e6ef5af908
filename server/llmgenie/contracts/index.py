"""Summaries the index reports to the CLI, the LSP layer and the agents."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
    stale_files: list[str] | None = Field(
        None, description="files changed since the last index; None when not checked"
    )
    embedding_provider: str | None = None
    embedding_status: str = ""
    degraded: list[str] = Field(default_factory=list)
    last_indexed_at: float | None = None
