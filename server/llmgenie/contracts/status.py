"""What `llmgenie/status` pushes and `llmgenie/health` answers (docs/protocol.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from llmgenie.contracts.index import IndexHealth

IndexingState = Literal["idle", "indexing", "paused"]


class IndexingStatus(BaseModel):
    """Background indexing: its state, the stage running and its counts."""

    state: IndexingState = "idle"
    stage: str | None = Field(
        None, description="open, lexical, symbols, index or embed while indexing"
    )
    folder: str | None = Field(None, description="the folder being indexed")
    done: int = 0
    total: int = 0


class ModelStatus(BaseModel):
    """Whether a model is configured for the agents, and which."""

    configured: bool
    model: str | None = None
    fallbacks: list[str] = Field(default_factory=list)
    suggested: str | None = Field(
        None, description="with no model configured: a running local model to use instead"
    )


class RemoteStatus(BaseModel):
    """The team server connection (see docs/team-server.md)."""

    connected: bool = False
    url: str | None = None
    state: Literal["off", "connecting", "connected", "signed_out", "unreachable"] = "off"
    reason: str | None = Field(None, description="why not connected, for people")


class StatusSnapshot(BaseModel):
    """The `llmgenie/status` notification: pushed whenever any of it changes."""

    indexing: IndexingStatus
    model: ModelStatus
    degraded: list[str] = Field(default_factory=list, description="what works with less, why")
    remote: RemoteStatus = Field(default_factory=RemoteStatus)


class EmbeddingsStatus(BaseModel):
    provider: str | None = None
    status: str = "not indexed"


class HealthReport(StatusSnapshot):
    """The `llmgenie/health` answer: the status plus each open folder's index health.
    Cheap: counts and states only, no walk of the workspace tree."""

    index: IndexHealth | None = Field(None, description="the first folder's index")
    folders: list[IndexHealth] = Field(default_factory=list)
    embeddings: EmbeddingsStatus = Field(default_factory=EmbeddingsStatus)
    version: str
