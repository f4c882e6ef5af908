"""The smart wrapper: context analysis → permission check → environment setup → execute.

`SmartWrapper.run` drives one request through the four steps. Each step is timed
(llmgenie_wrapper_step_seconds{step}), logged (`context_analyzed`, `permission_checked`,
`environment_ready`, `run_executed`) and announced to the caller as a status RunEvent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from llmgenie.config import Settings
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.progress import CancelToken
from llmgenie.contracts.runs import RunEvent, RunRequest, RunResult
from llmgenie.wrapper.context_analysis import analyze_context
from llmgenie.wrapper.environment import make_redactor, setup_environment
from llmgenie.wrapper.execution import Executor, execute
from llmgenie.wrapper.permissions import check_permissions
from llmgenie.wrapper.steps import wrapper_step

if TYPE_CHECKING:
    from llmgenie.engine import WorkspaceEngine

Audit = Callable[[str, dict[str, object]], None]


class SmartWrapper:
    """Runs requests through the four steps for one settings/engine pair."""

    def __init__(
        self, settings: Settings, engine: WorkspaceEngine, executor: Executor | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.executor = executor
        self.redactor = make_redactor(settings)

    def run(
        self,
        request: RunRequest,
        *,
        emit: Callable[[RunEvent], None],
        cancel: CancelToken,
        audit: Audit,
        trusted: bool = True,
        context: AnalyzedContext | None = None,
    ) -> RunResult:
        """The crew's result; raises the step's error (PathEscapeError, PermissionDenied,
        NoModelConfigured, Cancelled, BudgetExceeded, ModelCallError...).

        `context` is an analysis already done elsewhere (on the developer's machine, for a
        run delegated to a team server): step 1 then only records it.
        """
        run_id = request.run_id

        def status(stage: str, message: str, **data: object) -> None:
            emit(
                RunEvent(
                    run_id=run_id, kind="status", message=message, data={"stage": stage, **data}
                )
            )

        with wrapper_step("context", "context_analyzed", run_id) as details:
            if context is None:
                ctx, summary = analyze_context(request, self.engine, self.redactor)
            else:
                ctx, summary = (
                    context.model_copy(update={"request": request}),
                    {
                        "path": request.path,
                        "related": len(context.related),
                        "guidance": len(context.guidance),
                        "analyzed": "by the client",
                    },
                )
            details.update(summary)
        status("context_analyzed", "context analyzed", **summary)
        cancel.raise_if_cancelled()

        with wrapper_step("permissions", "permission_checked", run_id) as details:
            decision = check_permissions(
                ctx.request, self.settings.permissions, trusted=trusted, audit=audit
            )
            details.update(trusted=decision.trusted_workspace, denied=len(decision.denied))
        status(
            "permission_checked",
            "permissions checked"
            + (f": {len(decision.denied)} refusal(s)" if decision.denied else ""),
            denied=decision.denied,
            trusted=decision.trusted_workspace,
        )
        cancel.raise_if_cancelled()

        with wrapper_step("environment", "environment_ready", run_id) as details:
            env, env_summary = setup_environment(
                ctx,
                decision,
                self.settings,
                self.engine,
                emit=emit,
                cancel=cancel,
                audit=audit,
                redactor=self.redactor,
            )
            details.update(env_summary)
        models = list(getattr(env.client, "models", []))
        status("environment_ready", f"model {models[0] if models else '?'}", models=models)

        with wrapper_step("execute", "run_executed", run_id, crew=request.crew) as details:
            result = execute(ctx, env, self.executor)
            details.update(
                model=result.model,
                edits=len(result.edits),
                findings=len(result.findings),
                tokens=result.tokens,
            )
        return result
