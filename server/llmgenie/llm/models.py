"""The model-call contract the agents use (implemented over litellm in llm/client.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field


class Completion(BaseModel):
    """One model answer, with who answered and what it cost."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    fallbacks_tried: list[str] = Field(default_factory=list, description="models that failed first")
    ttft_s: float | None = Field(None, description="seconds from the request to the first token")
    finish_reason: str | None = Field(None, description="why the model stopped (stop, length...)")


class ModelClientProtocol(Protocol):
    """Execute-with-fallback model access for one run (redaction and budget applied inside)."""

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        on_delta: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
        json_answer: bool = False,
    ) -> Completion:
        """Call the chain in order; stream deltas to `on_delta` when given; at most
        `max_tokens` output tokens; `json_answer`: the final answer is one JSON object."""
        ...

    def context_window(self, model: str | None = None) -> int:
        """Input tokens the chain's first model (or `model`) accepts."""
        ...
