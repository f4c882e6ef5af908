"""Step 4, execute with fallback: hand the prepared run to the crew.

Model fallback, retries and timeouts happen per call inside the run's ModelClient; this step
picks the executor (the CrewAI crews by default, imported lazily because CrewAI takes
seconds to import) and returns its RunResult.
"""

from __future__ import annotations

from collections.abc import Callable

from llmgenie.agents.environment import RunEnvironment
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.runs import RunResult

Executor = Callable[[AnalyzedContext, RunEnvironment], RunResult]


def default_executor() -> Executor:
    """The CrewAI crews (llmgenie.agents.crews.execute_crew)."""
    from llmgenie.agents.crews import execute_crew

    return execute_crew


def execute(
    ctx: AnalyzedContext, env: RunEnvironment, executor: Executor | None = None
) -> RunResult:
    """Run the crew; exceptions (Cancelled, BudgetExceeded, ModelCallError...) propagate."""
    run = executor or default_executor()
    env.cancel.raise_if_cancelled()
    return run(ctx, env)
