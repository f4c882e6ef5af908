"""What each smart-wrapper step hands to the next, and finally to the crew."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from llmgenie.llm.models import ModelClientProtocol
from llmgenie.progress import CancelToken
from llmgenie.retrieval.models import ChunkHit
from llmgenie.runs.models import RunEvent, RunRequest

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine


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


@dataclass
class RunEnvironment:
    """Step 3 output: everything the crew needs to execute, ready to use."""

    engine: WorkspaceEngine
    client: ModelClientProtocol
    agent_models: dict[str, str]
    permissions: PermissionDecision
    redact: Callable[[str], str]
    emit: Callable[[RunEvent], None]
    cancel: CancelToken = field(default_factory=CancelToken)
    audit: Callable[[str, dict[str, object]], None] = lambda action, data: None
