"""Localization results as they cross boundaries (agent tool, MCP `localize`, CLI JSON).

A localization answers "which files and functions is this task about?" for an issue or a
task description: a ranked list of locations, each with the reasons it is there (the
model's words, the search signals that ranked the file), what the model proposed that did
not exist in the workspace (dropped, with why), the notes a user should read (the model was
unreachable, the tool budget ran out...) and what it cost.

`Localization.model_dump()` is the CLI contract (`llmgenie localize TEXT --json`):
{"query", "source", "hits": [{"path", "symbol", "kind", "start_line", "end_line", "score",
"reasons": [{"signal", "rank", "contribution", "detail"}]}], "dropped": [{"item", "why"}],
"notes", "tool_calls": [{"name", "arguments"}], "model", "tokens"}, best hit first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from llmgenie.contracts.search import ScoreReason
from llmgenie.contracts.types import JsonInt

LocalizationSource = Literal["model", "search"]
"""Who ranked the first hits: the model (validated) or the engine's search alone."""


class LocationHit(BaseModel):
    """One place the task is about: a file, optionally a definition in it and its lines."""

    path: str
    symbol: str | None = None
    kind: str | None = Field(None, description="the definition's kind (function, class...)")
    start_line: JsonInt | None = None
    end_line: JsonInt | None = None
    score: float = 0.0
    reasons: list[ScoreReason] = Field(default_factory=list)


class DroppedItem(BaseModel):
    """Something the model answered that is not in the workspace index, and why it went."""

    item: dict[str, Any]
    why: str


class LocalizationToolCall(BaseModel):
    """One tool the model called while localizing (for the user to follow its search)."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Localization(BaseModel):
    """The ranked locations for one task text."""

    query: str
    source: LocalizationSource
    hits: list[LocationHit] = Field(default_factory=list)
    dropped: list[DroppedItem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    tool_calls: list[LocalizationToolCall] = Field(default_factory=list)
    model: str | None = None
    tokens: JsonInt = 0

    def files(self) -> list[str]:
        """The distinct files of the hits, best first."""
        return list(dict.fromkeys(hit.path for hit in self.hits))
