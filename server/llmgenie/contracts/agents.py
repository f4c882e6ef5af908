"""What the smart wrapper's steps hand to the crews: the analysed context and the
permission decision. All text in an AnalyzedContext is already redacted."""

from __future__ import annotations

from pydantic import BaseModel, Field

from llmgenie.contracts.runs import RunRequest
from llmgenie.contracts.search import ChunkHit


class AnalyzedContext(BaseModel):
    """Step 1 output: what the request is about. All text here is already redacted."""

    request: RunRequest
    language: str | None = None
    file_text: str = ""
    selection_text: str = ""
    enclosing_symbol: str | None = None
    related: list[ChunkHit] = Field(default_factory=list, description="with text filled in")
    repo_map: str = ""
    guidance: list[str] = Field(default_factory=list, description="project rules (.cursorrules…)")
    workspace_traits: dict[str, bool] = Field(default_factory=dict)


class PermissionDecision(BaseModel):
    """Step 2 output: which tools the crew's agents may use; edits are always proposals."""

    allowed_tools: dict[str, list[str]] = Field(description="agent role -> tool names")
    denied: list[str] = Field(default_factory=list, description="what was refused, and why")
    trusted_workspace: bool = True
