"""The plain events the application emits; adapters turn them into their transport's terms
(LSP notifications and work-done progress, CLI progress bars, WebSocket frames).

Events are delivered on the application's event loop, in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from llmgenie.contracts.runs import RunEvent, RunRequest, RunResult
from llmgenie.contracts.status import StatusSnapshot


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """What the status bar shows changed (sent only when it differs from the last one)."""

    status: StatusSnapshot


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should read now; `detail` is the long form for a log."""

    level: Literal["info", "warning", "error"]
    message: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ProgressBegin:
    """Long work started; when `cancellable`, `Application.cancel_progress(token)` stops it."""

    token: str
    title: str
    message: str = ""
    cancellable: bool = False


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """Long work advanced (`percentage` when known)."""

    token: str
    message: str
    percentage: int | None = None


@dataclass(frozen=True, slots=True)
class ProgressEnd:
    """Long work ended, done or not (`message` says how)."""

    token: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class RunEventEmitted:
    """A run's progress (status, streamed text, tool calls, its result or error)."""

    event: RunEvent


@dataclass(frozen=True, slots=True)
class RunCompleted:
    """A run succeeded and its result should reach the editor (edits, findings, message)."""

    request: RunRequest
    result: RunResult


AppEvent = (
    StatusChanged
    | Notice
    | ProgressBegin
    | ProgressReport
    | ProgressEnd
    | RunEventEmitted
    | RunCompleted
)
EventSink = Callable[[AppEvent], None]
