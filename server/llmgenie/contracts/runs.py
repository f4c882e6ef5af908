"""The run contract shared by the agents, the language server, the CLI and the team server.

A run is one crew working on one request. It emits RunEvents while it works and ends with
a RunResult. Lines are 1-based inclusive (the LSP layer converts).
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from llmgenie.contracts.ids import CrewName, RunEventKind
from llmgenie.contracts.types import JsonInt


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class LineRange(BaseModel):
    start_line: JsonInt = Field(ge=1)
    end_line: JsonInt = Field(ge=1)


class RunRequest(BaseModel):
    """What the user asked for, and where."""

    crew: CrewName
    workspace: str = Field(description="absolute workspace root")
    path: str | None = Field(None, description="workspace-relative file")
    range: LineRange | None = None
    prompt: str = ""
    diagnostic: str | None = Field(None, description="diagnostic message, for the fix crew")
    model: str | None = None
    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class ProposedEdit(BaseModel):
    """An exact text replacement: `old_text` must occur in `path`; the user applies it."""

    path: str
    old_text: str
    new_text: str
    description: str = ""


class Finding(BaseModel):
    """A security/performance/devops finding, shown as a diagnostic with source `llmgenie`."""

    path: str
    start_line: JsonInt = Field(ge=1)
    end_line: JsonInt = Field(ge=1)
    severity: Literal["error", "warning", "info", "hint"] = "warning"
    rule: str = Field(description="e.g. CWE-89 or PERF-quadratic-loop")
    message: str
    fix: str = ""


class RunResult(BaseModel):
    """What a run produced."""

    message: str = ""
    edits: list[ProposedEdit] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    model: str | None = Field(None, description="the model that actually answered")
    tokens: JsonInt = 0
    cost_usd: float = 0.0


class RunEvent(BaseModel):
    """Progress of a run: stage changes, streamed text deltas, tool calls, the end."""

    run_id: str
    kind: RunEventKind
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    at: float = Field(default_factory=time.time)


class RunRecord(BaseModel):
    """A run as persisted: survives editor restarts."""

    run_id: str
    request: RunRequest
    status: RunStatus
    created_at: float
    updated_at: float
    result: RunResult | None = None
    error: str | None = None
    trace_id: str | None = Field(None, description="the run's OpenTelemetry trace, if traced")
