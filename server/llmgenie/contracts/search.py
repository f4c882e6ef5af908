"""Search results as they cross boundaries (CLI JSON, LSP, agent tools).

`SearchResult.model_dump(exclude={"chunks": {"__all__": {"text"}}})` is the CLI contract:
{"query", "files": [{"path", "score", "reasons"}], "chunks": [{"path", "start_line",
"end_line", "symbol", "score", "reasons"}]}, best first.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from llmgenie.contracts.types import JsonInt


class ScoreReason(BaseModel):
    """Why a hit scored: which signal ranked it where, with a human-readable detail."""

    signal: str
    rank: JsonInt
    contribution: float
    detail: str = ""


class FileHit(BaseModel):
    path: str
    score: float
    reasons: list[ScoreReason] = Field(default_factory=list)


class ChunkHit(BaseModel):
    path: str
    start_line: JsonInt
    end_line: JsonInt
    symbol: str | None
    score: float
    reasons: list[ScoreReason] = Field(default_factory=list)
    text: str | None = None


class SearchResult(BaseModel):
    query: str
    files: list[FileHit] = Field(default_factory=list)
    chunks: list[ChunkHit] = Field(default_factory=list)
    degraded: list[str] = Field(default_factory=list, description="signals unavailable, and why")
