"""Step 3, environment setup: model chain, budget, timeouts, redaction, the run's client.

Everything a crew needs is built here, once per run, so the crew itself never touches
settings or provider keys: it gets a ready RunEnvironment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from llmgenie.agents.environment import RunEnvironment
from llmgenie.config import Settings
from llmgenie.contracts.agents import AnalyzedContext, PermissionDecision
from llmgenie.contracts.errors import NoModelConfigured
from llmgenie.contracts.progress import CancelToken
from llmgenie.contracts.runs import RunEvent
from llmgenie.llm.budget import RunBudget
from llmgenie.llm.client import ModelClient, model_chain
from llmgenie.llm.models import Completion
from llmgenie.redaction import Redactor

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine


def make_redactor(settings: Settings) -> Redactor:
    """A redactor that also replaces this user's configured keys wherever they appear."""
    known: list[str] = []
    if settings.llm.api_key is not None:
        known.append(settings.llm.api_key.get_secret_value())
    if settings.team.token is not None:
        known.append(settings.team.token.get_secret_value())
    return Redactor(known_secrets=known)


def require_model(settings: Settings, override: str | None = None) -> list[str]:
    """The model chain, or NoModelConfigured with the how-to message."""
    chain = model_chain(settings, override)
    if not chain:
        raise NoModelConfigured()
    return chain


def setup_environment(
    ctx: AnalyzedContext,
    decision: PermissionDecision,
    settings: Settings,
    engine: WorkspaceEngine,
    *,
    emit: Callable[[RunEvent], None],
    cancel: CancelToken,
    audit: Callable[[str, dict[str, object]], None],
    redactor: Redactor,
) -> tuple[RunEnvironment, dict[str, object]]:
    """The ready RunEnvironment, plus a summary for logs."""
    chain = require_model(settings, ctx.request.model)
    budget = RunBudget(settings.llm.budget_tokens, settings.llm.budget_usd)

    def model_used(completion: Completion) -> None:
        audit(
            "model_used",
            {
                "model": completion.model,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "cost_usd": completion.cost_usd,
                "fallbacks_tried": completion.fallbacks_tried,
            },
        )

    client = ModelClient.from_settings(
        settings,
        model=ctx.request.model,
        budget=budget,
        redact=redactor,
        cancel=cancel,
        on_completion=model_used,
    )
    # An explicit model for this run wins over per-agent choices.
    agent_models = {} if ctx.request.model else dict(settings.llm.agents)
    env = RunEnvironment(
        engine=engine,
        client=client,
        agent_models=agent_models,
        permissions=decision,
        redact=redactor,
        emit=emit,
        cancel=cancel,
        audit=audit,
    )
    summary: dict[str, object] = {
        "models": chain,
        "agent_models": agent_models,
        "timeout_s": settings.llm.timeout_s,
        "max_retries": settings.llm.max_retries,
        "budget_tokens": budget.max_tokens,
        "budget_usd": budget.max_usd,
    }
    return env, summary
