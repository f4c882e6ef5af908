"""The chat crew: one streamed conversation turn with the coordinator's tools.

No CrewAI here (chat must start streaming at once): the model layer is called directly
with the analysed context, text deltas are emitted as RunEvents of kind "delta", and tool
calls the model makes (native function calling) run through the same `AgentToolbox`, so
permissions, audit and workspace confinement are identical to the crews.
"""

from __future__ import annotations

import time
from typing import Any

from llmgenie.agents.briefing import briefing_chars, describe_context
from llmgenie.agents.roles import ROLES, RoleKey
from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox, openai_tool_schemas
from llmgenie.contracts.errors import BudgetExceeded, ModelCallError, NoModelConfigured
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import RunResult

MAX_TOOL_ROUNDS = 6
MAX_OUTPUT_TOKENS = 1500  # per model call (LLMGENIE_MODEL_MAX_TOKENS overrides)
CHAT_ROLE: RoleKey = "coordinator"

SYSTEM_PROMPT = (
    "You are llmgenie, an engineering assistant inside the user's editor, leading a team of "
    "specialists (DevOps, Security, Performance, Documentation). Answer precisely and "
    "concisely in Markdown. Ground every statement about the code in the context below or "
    "in what the tools return; never invent file contents. Cite code as path:line. When a "
    "change is wanted, show it, or record it with propose_edit if that tool is available. "
    "To find where a task or issue lives in the code, call localize before reading files."
)


def run_chat(state: RunState) -> RunResult:
    """Answer `state.ctx.request.prompt`, streaming deltas, using tools when the model asks."""
    toolbox = AgentToolbox(state, CHAT_ROLE)
    names = [name for name in ROLES[CHAT_ROLE].tools if toolbox.allowed(name)]
    schemas = openai_tool_schemas(names) if names else None
    client = state.client_for(CHAT_ROLE)
    context = describe_context(
        state.ctx, briefing_chars(client.context_window(), MAX_OUTPUT_TOKENS)
    )
    question = state.ctx.request.prompt or "Explain this code."
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"{context}\n\nQuestion: {question}" if context else question},
    ]
    state.note_agent(ROLES[CHAT_ROLE].role)

    def on_delta(text: str) -> None:
        if text:
            state.emit("delta", text)

    for round_number in range(MAX_TOOL_ROUNDS + 1):
        state.raise_if_stopped()
        last_round = round_number == MAX_TOOL_ROUNDS
        started = time.monotonic()
        try:
            completion = client.complete(
                messages,
                tools=None if last_round else schemas,
                on_delta=on_delta,
                max_tokens=MAX_OUTPUT_TOKENS,
            )
        except (BudgetExceeded, ModelCallError, NoModelConfigured, Cancelled) as exc:
            state.set_fatal(exc)
            raise
        state.record_completion(completion, time.monotonic() - started)
        if not completion.tool_calls or last_round:
            return RunResult(
                message=completion.text, edits=state.snapshot_edits(), findings=list(state.findings)
            )
        messages.append(
            {
                "role": "assistant",
                "content": completion.text or None,
                "tool_calls": completion.tool_calls,
            }
        )
        for call in completion.tool_calls:
            function = call.get("function") or {}
            name = str(function.get("name") or "")
            output = toolbox.call(name, function.get("arguments"))
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call.get("id") or f"call_{round_number}",
                    "name": name,
                    "content": output,
                }
            )
    raise AssertionError("unreachable: the last round never offers tools")
