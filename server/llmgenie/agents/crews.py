"""Run a crew: `execute_crew(ctx, env) -> RunResult`, the smart wrapper's last step.

Every crew but chat is a real CrewAI crew: one specialist with a single task (sequential),
or, for `review`, a hierarchical crew whose manager is the coordinator and whose members
are the specialists. Agents talk to models only through `GenieLLM` (our model layer) and
touch the workspace only through `AgentToolbox`.

Structured output: the final task asks for a `CrewReport` (its JSON schema is in the task's
expected output) and carries a CrewAI guardrail (`ReportGuard`) that reads the answer
leniently and checks each edit and finding on its own. Only an answer that lacks what the
crew needs goes back to the agent, asked for exactly that, at most `VALIDATION_RETRIES`
times; the last attempt returns whatever is usable, or the run fails with `CrewRunFailed`
naming the reason.

Errors: `Cancelled` (the user cancelled), `BudgetExceeded`, `ModelCallError` and
`NoModelConfigured` propagate unchanged; anything else becomes `CrewRunFailed`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from llmgenie.agents.briefing import OUTPUT_RULES, briefing_chars, describe_context
from llmgenie.agents.crew_specs import CREWS, CrewSpec
from llmgenie.agents.crewai_setup import load_crewai
from llmgenie.agents.environment import RunEnvironment
from llmgenie.agents.knowledge import KnowledgeBase
from llmgenie.agents.report_guard import ReportGuard
from llmgenie.agents.results import CrewReport, ReportPolicy, merge_result
from llmgenie.agents.roles import ROLES, RoleKey
from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.errors import CrewRunFailed, UnknownCrew
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import RunResult
from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

VALIDATION_RETRIES = 2
REPORT_EXPECTED_OUTPUT = (
    "One JSON object (no code fence, no other text) matching this JSON schema:\n"
    + json.dumps(CrewReport.model_json_schema(), separators=(",", ":"))
)
MAX_AGENT_ITERATIONS = 15


def execute_crew(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
    """Run the crew `ctx.request.crew` on the analysed context and return its result."""
    name = ctx.request.crew
    state = RunState(ctx=ctx, env=env)
    started = time.monotonic()
    log.info("crew_started", run_id=state.run_id, crew=name)
    state.emit("status", f"{name} crew started", stage="crew_started", crew=name)
    try:
        state.raise_if_stopped()
        if name == "chat":
            from llmgenie.agents.chat import run_chat

            result = run_chat(state)
        else:
            spec = CREWS.get(name)
            if spec is None:
                raise UnknownCrew(f"unknown crew {name!r}; known: chat, {', '.join(CREWS)}")
            result = _run_crewai(spec, state)
    except Exception as exc:
        log.info(
            "crew_finished",
            run_id=state.run_id,
            crew=name,
            outcome=type(exc).__name__,
            seconds=round(time.monotonic() - started, 3),
        )
        raise
    elapsed = time.monotonic() - started
    result = result.model_copy(
        update={"model": state.model, "tokens": state.tokens, "cost_usd": state.cost_usd}
    )
    log.info(
        "crew_finished",
        run_id=state.run_id,
        crew=name,
        outcome="ok",
        edits=len(result.edits),
        findings=len(result.findings),
        model_calls=state.model_calls,
        tokens=state.tokens,
        seconds=round(elapsed, 3),
        # orchestration overhead: time in the run not spent waiting on a model
        overhead_seconds=round(max(0.0, elapsed - state.model_seconds), 3),
    )
    state.emit(
        "status",
        f"{name} crew finished: {len(result.edits)} edit(s), {len(result.findings)} finding(s)",
        stage="crew_finished",
        model=state.model,
        model_calls=state.model_calls,
        model_seconds=round(state.model_seconds, 4),
        overhead_seconds=round(max(0.0, elapsed - state.model_seconds), 4),
    )
    return result


def _agent(
    spec_key: RoleKey,
    state: RunState,
    knowledge: KnowledgeBase,
    policy: ReportPolicy,
    *,
    manager: bool,
    max_tokens: int,
    json_answer: bool = True,
) -> Any:
    """A CrewAI Agent for role `spec_key`, wired to our LLM adapter and tools."""
    crewai = load_crewai()  # never `import crewai` directly: the offline env must come first

    from llmgenie.agents.crewai_tools import crewai_tools
    from llmgenie.agents.llm_adapter import GenieLLM

    role = ROLES[spec_key]
    model = state.model_for(spec_key)
    llm = GenieLLM.for_agent(
        state.client_for(spec_key),
        state,
        model=model or "default",
        agent_role=role.role,
        agent_key=spec_key,
        max_tokens=max_tokens,
        json_answer=json_answer,  # the lead's final answer is a CrewReport object
    )
    tools: list[Any] = []
    if not manager:
        toolbox = AgentToolbox(state, spec_key, knowledge=knowledge, policy=policy)
        tools = crewai_tools(toolbox, role.tools)
    return crewai.Agent(
        role=role.role,
        goal=role.goal,
        backstory=role.backstory,
        llm=llm,
        tools=tools,
        allow_delegation=manager,
        verbose=False,
        max_iter=MAX_AGENT_ITERATIONS,
        max_retry_limit=0,  # our model layer retries; CrewAI must not re-run whole tasks
        respect_context_window=False,  # no hidden summarisation calls
        cache=False,
    )


def _localized(spec: CrewSpec, state: RunState, knowledge: KnowledgeBase) -> str:
    """For a task that names no file (a prompt, no path) in a crew that changes code (fix,
    refactor, tests): the localize tool's ranked files and functions, run once before the
    agents start, so that they read the right code first. Empty when the request points at
    a file, the crew does not localize, or the lead may not use the tool."""
    request = state.ctx.request
    if not spec.localize_first or request.path or not request.prompt.strip():
        return ""
    toolbox = AgentToolbox(state, spec.lead, knowledge=knowledge, policy=spec.policy)
    if not toolbox.allowed("localize"):
        return ""
    state.emit("status", "localizing the task", stage="localize", crew=spec.name)
    found = toolbox.call("localize", {"task": request.prompt})
    return (
        "Where the task points (localized before you started; read these first, with "
        f"read_file or list_symbols):\n{found}\n\n"
    )


def _run_crewai(spec: CrewSpec, state: RunState) -> RunResult:
    """Build and kick off the CrewAI crew for `spec`; validate and merge its result."""
    crewai = load_crewai()

    from llmgenie.agents.crewai_crew import GenieCrew

    state.emit("status", "preparing agents", stage="setup", crew=spec.name)
    knowledge = KnowledgeBase(state.env.engine)
    tokens = spec.max_output_tokens
    lead = _agent(
        spec.lead, state, knowledge, spec.policy, manager=spec.hierarchical, max_tokens=tokens
    )
    validation = ReportGuard(state, spec, max_attempts=VALIDATION_RETRIES + 1)
    # Sized for the smallest window among the crew's models: a local 8k model gets the
    # file around the selection instead of the whole file and every related snippet.
    roles = (spec.lead, *spec.members)
    window = min(state.client_for(key).context_window() for key in roles)
    briefing = describe_context(state.ctx, briefing_chars(window, tokens))
    located = _localized(spec, state, knowledge)
    description = f"{spec.instructions}\n\n{briefing}\n\n{located}{OUTPUT_RULES}"
    # No `output_pydantic`: on a retry CrewAI would "repair" invalid JSON with a hidden
    # extra model call. The guardrail validates against CrewReport itself instead.
    task = crewai.Task(
        description=description,
        expected_output=REPORT_EXPECTED_OUTPUT,
        agent=None if spec.hierarchical else lead,
        # a lambda: CrewAI inspects annotations, which are strings in this module
        guardrail=lambda output: validation(output),
        guardrail_max_retries=VALIDATION_RETRIES,
    )
    if spec.hierarchical:
        members = [
            # members answer the manager in prose; only the manager's answer is the report
            _agent(
                key,
                state,
                knowledge,
                spec.policy,
                manager=False,
                max_tokens=tokens,
                json_answer=False,
            )
            for key in spec.members
        ]
        crew = GenieCrew(
            agents=members,
            tasks=[task],
            process=crewai.Process.hierarchical,
            manager_agent=lead,
            verbose=False,
            tracing=False,
            cache=False,
        )
    else:
        crew = GenieCrew(agents=[lead], tasks=[task], verbose=False, tracing=False, cache=False)
    state.emit("status", "agents working", stage="running", crew=spec.name)
    try:
        crew.kickoff()
    except Cancelled:
        raise
    except Exception as exc:
        if state.fatal is not None:
            raise state.fatal from exc
        if validation.failures and validation.report is None:
            raise CrewRunFailed(
                f"the model's answer did not validate after {len(validation.failures)} "
                f"attempt(s): {validation.failures[-1]}"
            ) from exc
        raise CrewRunFailed(f"the {spec.name} crew failed: {type(exc).__name__}: {exc}") from exc
    state.raise_if_stopped()
    if validation.report is None:
        raise CrewRunFailed(f"the {spec.name} crew ended without a final answer")
    return merge_result(validation.report, state.snapshot_edits(), list(state.findings))
