"""How a run that raised ends: its status, the outcome label metrics use, and the error
text the user reads. Shared by every place that runs crews (local runs, the team server)."""

from __future__ import annotations

from typing import Literal

from llmgenie.contracts.errors import (
    BudgetExceeded,
    CrewRunFailed,
    ModelCallError,
    NoModelConfigured,
    PathEscapeError,
    PermissionDenied,
)
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import RunStatus

Outcome = Literal["success", "cancelled", "denied", "budget_exceeded", "error"]


def run_error(exc: BaseException) -> tuple[RunStatus, Outcome, str]:
    """(final status, outcome label, message for the user) of a run that raised `exc`."""
    if isinstance(exc, Cancelled):
        return RunStatus.CANCELLED, "cancelled", "cancelled by the user"
    if isinstance(exc, BudgetExceeded):
        return RunStatus.FAILED, "budget_exceeded", f"budget exceeded: {exc}"
    if isinstance(exc, ModelCallError):
        return RunStatus.FAILED, "error", f"model call failed: {exc}"
    if isinstance(exc, PathEscapeError):
        return RunStatus.FAILED, "denied", f"refused: {exc}"
    if isinstance(exc, PermissionDenied):
        return RunStatus.FAILED, "denied", f"permission denied: {exc}"
    if isinstance(exc, NoModelConfigured | FileNotFoundError | ValueError | CrewRunFailed):
        return RunStatus.FAILED, "error", str(exc)  # UnknownCrew is a ValueError
    return RunStatus.FAILED, "error", f"internal error: {type(exc).__name__}: {exc}"
