"""A CrewAI LLM that sends every call through llmgenie's model layer.

CrewAI never talks to a provider: `GenieLLM.call` delegates to `ModelClientProtocol.complete`,
so fallback, timeouts, retries, budget, redaction, cancellation and token accounting all
happen in one place, and no provider API key has to be visible to CrewAI.

Native function calling is used unless litellm knows the model and knows it lacks it: then
CrewAI falls back to its ReAct text protocol ("Thought/Action/Action Input/Final Answer")
over plain completions, with the stop words applied here.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from llmgenie.agents.crewai_setup import load_crewai
from llmgenie.agents.run_state import RunState
from llmgenie.contracts.errors import BudgetExceeded, ModelCallError, NoModelConfigured
from llmgenie.contracts.progress import Cancelled
from llmgenie.llm.models import ModelClientProtocol

load_crewai()

from crewai.llms.base_llm import BaseLLM  # noqa: E402  (after the offline environment is set)
from pydantic import BaseModel, PrivateAttr  # noqa: E402

# Errors that end the whole run: re-raised on every later call so that CrewAI swallowing
# one inside a delegated agent's tool call cannot let the run continue.
RUN_ENDING = (BudgetExceeded, ModelCallError, NoModelConfigured, Cancelled)
_CONTEXT_WINDOW = 128_000


def _plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as a provider expects them: only the keys the chat API knows."""
    keep = ("role", "content", "tool_calls", "tool_call_id", "name")
    return [{k: m[k] for k in keep if k in m} for m in messages]


def supports_native_tools(model: str) -> bool:
    """False only for models litellm knows to lack function calling (e.g. ollama/llama2)."""
    from llmgenie.litellm_setup import load_litellm

    litellm = load_litellm()
    try:
        info = litellm.get_model_info(model)
    except Exception:  # unknown to litellm's map: custom deployments usually support tools
        return True
    return bool(info.get("supports_function_calling", True))


class GenieLLM(BaseLLM):
    """CrewAI's view of one agent's model; the run's ModelClient does the real work."""

    llm_type: str = "llmgenie"
    agent_role: str = ""
    native_tools: bool = True
    _client: ModelClientProtocol = PrivateAttr()
    _state: RunState = PrivateAttr()

    @classmethod
    def for_agent(
        cls,
        client: ModelClientProtocol,
        state: RunState,
        *,
        model: str,
        agent_role: str,
        max_tokens: int | None = None,
    ) -> GenieLLM:
        """An adapter bound to one run and one agent (for events and accounting)."""
        chain = getattr(client, "models", None)
        effective = model or (chain[0] if isinstance(chain, list) and chain else "")
        llm = cls(
            model=model or "llmgenie-default",
            agent_role=agent_role,
            provider="llmgenie",
            max_tokens=max_tokens,
            native_tools=supports_native_tools(effective) if effective else True,
        )
        llm._client = client
        llm._state = state
        return llm

    def call(
        self,
        messages: str | list[Any],
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any | None = None,
        from_agent: Any | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> str | Any:
        """One model call through the run's client; tool calls go back to CrewAI."""
        state = self._state
        state.raise_if_stopped()
        role = getattr(from_agent, "role", None) or self.agent_role
        state.note_agent(role)
        formatted = _plain_messages(cast(list[dict[str, Any]], self._format_messages(messages)))
        started = time.monotonic()
        try:
            limit = int(self.max_tokens) if self.max_tokens else None
            completion = self._client.complete(formatted, tools=tools or None, max_tokens=limit)
        except RUN_ENDING as exc:
            state.set_fatal(exc)
            raise
        state.record_completion(completion, time.monotonic() - started)
        self._track_token_usage_internal(
            {
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "total_tokens": completion.prompt_tokens + completion.completion_tokens,
            }
        )
        if completion.tool_calls and tools:
            if available_functions:
                # Called outside an agent executor (e.g. a converter): run the first call here.
                call = completion.tool_calls[0]
                function = call.get("function", {})
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    arguments = {}
                return self._handle_tool_execution(
                    function.get("name", ""), arguments, available_functions, from_task, from_agent
                )
            return list(completion.tool_calls)
        return self._apply_stop_words(completion.text or "")

    # Our model layer already retries rate limits with backoff; CrewAI must not retry again.
    call._crewai_rate_limit_wrapped = True  # type: ignore[attr-defined]

    def supports_function_calling(self) -> bool:
        return self.native_tools

    def supports_stop_words(self) -> bool:
        return True

    def get_context_window_size(self) -> int:
        return _CONTEXT_WINDOW

    def get_input_tokens_count(
        self,
        messages: str | list[Any],
        tools: list[dict[str, Any]] | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> int:
        """Rough estimate (four characters per token), without CrewAI's warning."""
        if isinstance(messages, str):
            return (len(messages) + 3) // 4
        return sum(len(str(m.get("content") or "")) for m in messages) // 4
