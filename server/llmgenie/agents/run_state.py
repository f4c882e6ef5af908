"""Per-run state shared by the LLM adapter, the tools and the crew runner.

One `RunState` lives for one run: it collects what the agents propose (edits, findings),
accounts tokens and cost, remembers which model answered, and carries a "sticky" fatal
error so that a budget stop or a cancellation inside a delegated agent (where CrewAI turns
exceptions into tool output) still ends the whole run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmgenie.agents.environment import RunEnvironment
from llmgenie.agents.roles import RoleKey, model_for
from llmgenie.contracts.agents import AnalyzedContext
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import Finding, ProposedEdit, RunEvent
from llmgenie.llm.models import Completion, ModelClientProtocol
from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

EventKind = Literal["status", "delta", "tool", "progress", "result", "error"]
# A first token slower than this is shown as progress: the user learns the model is slow.
SLOW_FIRST_TOKEN_S = 2.0


@dataclass
class RunState:
    """Mutable state of one crew run; thread-safe (CrewAI may run tools in threads)."""

    ctx: AnalyzedContext
    env: RunEnvironment
    edits: list[ProposedEdit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    fallbacks_tried: list[str] = field(default_factory=list)
    model_calls: int = 0
    model_seconds: float = 0.0
    fatal: BaseException | None = None
    active_agent: str | None = None
    finding_rule_pattern: str | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def run_id(self) -> str:
        return self.ctx.request.run_id

    @property
    def root(self) -> Path:
        return Path(self.ctx.request.workspace)

    def model_for(self, role: RoleKey) -> str | None:
        """The model configured for `role` in this run (None: the client's default chain)."""
        return model_for(role, self.env.agent_models)

    def client_for(self, role: RoleKey) -> ModelClientProtocol:
        """The run's client, switched to the role's own model where the client can do that."""
        model = self.model_for(role)
        switch = getattr(self.env.client, "with_model", None)
        if model and callable(switch):
            switched: ModelClientProtocol = switch(model)
            return switched
        return self.env.client

    def emit(self, kind: EventKind, message: str, **data: Any) -> None:
        """Send a RunEvent to the run's listener; a failing listener never breaks the run."""
        try:
            self.env.emit(RunEvent(run_id=self.run_id, kind=kind, message=message, data=data))
        except Exception as exc:  # the listener is someone else's code
            log.warning("run_event_emit_failed", run_id=self.run_id, error=str(exc))

    def audit(self, action: str, data: dict[str, object]) -> None:
        """Append an audit record tagged with the run id."""
        self.env.audit(action, {"run_id": self.run_id, **data})

    def raise_if_stopped(self) -> None:
        """Raise the run's fatal error (budget, outage) or Cancelled if the user cancelled."""
        with self._lock:
            fatal = self.fatal
        if fatal is not None:
            raise fatal
        if self.env.cancel.cancelled:
            raise Cancelled()

    def set_fatal(self, exc: BaseException) -> None:
        """Remember the first run-ending error; later model calls re-raise it."""
        with self._lock:
            if self.fatal is None:
                self.fatal = exc

    def record_completion(self, completion: Completion, seconds: float = 0.0) -> None:
        """Account one model answer: tokens, cost, time waited, who answered, who failed."""
        with self._lock:
            self.model_calls += 1
            self.model_seconds += seconds
            self.tokens += completion.prompt_tokens + completion.completion_tokens
            self.cost_usd += completion.cost_usd
            self.model = completion.model
            for name in completion.fallbacks_tried:
                if name not in self.fallbacks_tried:
                    self.fallbacks_tried.append(name)
        if completion.ttft_s is not None and completion.ttft_s >= SLOW_FIRST_TOKEN_S:
            self.emit(
                "progress",
                f"{completion.model}: first token after {completion.ttft_s:.1f}s",
                stage="model_first_token",
                model=completion.model,
                ttft_s=completion.ttft_s,
            )
        if completion.fallbacks_tried:
            self.emit(
                "progress",
                f"{', '.join(completion.fallbacks_tried)} failed; {completion.model} answered",
                model=completion.model,
                fallbacks_tried=list(completion.fallbacks_tried),
            )

    def note_agent(self, role: str) -> None:
        """Emit a status event when a different agent starts working."""
        with self._lock:
            changed = role != self.active_agent
            self.active_agent = role
        if changed:
            self.emit("status", f"{role} is working", agent=role, stage="agent")

    def add_edit(self, edit: ProposedEdit) -> int:
        with self._lock:
            self.edits.append(edit)
            return len(self.edits)

    def add_finding(self, finding: Finding) -> int:
        with self._lock:
            self.findings.append(finding)
            return len(self.findings)

    def snapshot_edits(self) -> list[ProposedEdit]:
        with self._lock:
            return list(self.edits)
