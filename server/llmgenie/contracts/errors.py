"""Errors that cross layers: services raise them, adapters turn them into protocol answers.

Each carries a message written for the user. Adapters map them to their transport (a
JSON-RPC error code, an HTTP status, a CLI exit code) without importing the service that
raised them.
"""

from __future__ import annotations

NO_MODEL_MESSAGE = (
    "No model configured: set llmgenie.model in the editor, llm.model in your llmgenie "
    "config, or LLMGENIE_LLM__MODEL, to a litellm model string such as openai/gpt-4o-mini "
    "or ollama/llama3.1, then retry."
)


class PathEscapeError(ValueError):
    """A path given by a client or an agent would leave the workspace root."""


class NoModelConfigured(RuntimeError):
    """No model is configured: actions that need one explain how to set it."""

    def __init__(self, message: str = NO_MODEL_MESSAGE) -> None:
        super().__init__(message)


class ModelCallError(RuntimeError):
    """Every model in the chain failed; the message lists each model and its error."""


class BudgetExceeded(RuntimeError):
    """The run's token or cost budget is spent; the run stops cleanly."""


class PermissionDenied(PermissionError):
    """The policy refuses the whole request (e.g. a crew denied in this workspace)."""


class CrewRunFailed(RuntimeError):
    """The crew could not produce a valid result; the message says why, for the user."""


class UnknownCrew(ValueError):
    """The request names a crew that does not exist."""


class InvalidRequest(ValueError):
    """A request a client sent does not make sense here (bad arguments, a file outside
    every open workspace folder); adapters answer it as invalid params."""


class RequestFailed(RuntimeError):
    """A well-formed request that could not be served; `reason` is a stable word clients
    can branch on (documented in docs/protocol.md)."""

    def __init__(self, message: str, reason: str, **data: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.data = data
