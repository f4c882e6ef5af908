"""The guardrail on a crew's final answer: keep what is valid, ask only for what is missing.

CrewAI calls the guard with each final answer of the task. The guard reads it leniently
(`parse_answer`), checks every edit and finding on its own (`check_items`), and keeps the
valid ones across attempts. Only when something the crew needs is missing (the message of
a message crew, the edits of an editing crew, or anything usable at all) does it send the
model back, with a request for exactly that; what was kept stays kept. On the last attempt
whatever is usable is accepted. Items that were never kept are listed under "**Not kept**"
in the message, announced as a run event and audited, and an answer cut off mid-item says
so in the message: the user sees them, nothing is silently dropped.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmgenie.agents.results import (
    CUT_OFF_NOTE,
    Answer,
    CrewReport,
    Rejection,
    ReportPolicy,
    check_items,
    parse_answer,
)
from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.contracts.runs import Finding, ProposedEdit
from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.agents.crew_specs import CrewSpec
    from llmgenie.agents.run_state import RunState

log = get_logger(__name__)

MISSING_EDITS = (
    "this task must propose at least one edit (in 'edits' or with the propose_edit tool)"
)
MISSING_MESSAGE = "the message: your answer for the user, in Markdown"
MISSING_ANYTHING = "a usable answer: one JSON object with message, edits and findings"
ITEM_CUT_NOTE = (
    "\n\n*(The model's answer was cut off before it ended, most likely by its output limit: "
    "an edit or finding it was still writing is not included.)*"
)


class ReportGuard:
    """The guardrail state of one task: what has been kept, and why answers fell short."""

    def __init__(self, state: RunState, spec: CrewSpec, max_attempts: int) -> None:
        self.state = state
        self.spec = spec
        self.max_attempts = max_attempts
        self.view = WorkspaceView(state.root, state.env.engine)
        allowed = state.env.permissions.allowed_tools.get(spec.lead, [])
        # The final answer is held to the lead's permissions like its tool calls are.
        self.may_edit = "propose_edit" in allowed
        self.may_report = "report_finding" in allowed
        self.policy: ReportPolicy = replace(
            spec.policy, require_edits=spec.policy.require_edits and self.may_edit
        )
        self.message: str | None = None
        self.edits: list[ProposedEdit] = []
        self.findings: list[Finding] = []
        self.report: CrewReport | None = None
        self.failures: list[str] = []
        self.attempts = 0
        self.cut_off = False  # the last answer read stopped before it ended
        self._kept_at: list[tuple[int, str, str]] = []  # (attempt, kind, path)
        self._rejected: list[tuple[int, Rejection]] = []
        self._lock = threading.Lock()

    # --- CrewAI's entry point -----------------------------------------------------------
    def __call__(self, output: Any) -> tuple[bool, Any]:
        """(True, the report as JSON) or (False, what the model must still deliver)."""
        raw = str(getattr(output, "raw", "") or "")
        with self._lock:
            self.attempts += 1
            attempt = self.attempts
            answer = self._within_permissions(parse_answer(raw, self.policy))
            recorded_edits = self.state.snapshot_edits()
            recorded_findings = list(self.state.findings)
            checked = check_items(
                answer,
                self.view,
                self.policy,
                recorded_edits + self.edits,
                recorded_findings + self.findings,
            )
            self.edits += checked.edits
            self.findings += checked.findings
            self._kept_at += [(attempt, "edit", e.path) for e in checked.edits]
            self._kept_at += [(attempt, "finding", f.path) for f in checked.findings]
            self._rejected += [(attempt, r) for r in checked.rejected]
            if answer.message:
                self.message = answer.message
            self.cut_off = answer.truncated
            have_items = bool(self.edits or self.findings or recorded_edits or recorded_findings)
            missing = self._missing(have_items, bool(self.edits or recorded_edits))
            if not missing:
                return self._accept()
            last = attempt >= self.max_attempts
            if last and MISSING_EDITS not in missing and (self.message or have_items):
                return self._accept()  # the last chance: whatever is usable
            feedback = self._feedback(answer, missing, checked.rejected)
            self.failures.append(feedback)
        log.info(
            "crew_answer_incomplete", run_id=self.state.run_id, attempt=attempt, missing=missing
        )
        self.state.emit(
            "status",
            f"answer incomplete (attempt {attempt}); asking for what is missing"
            if not last
            else f"answer unusable (attempt {attempt})",
            stage="validation_failed",
            error=feedback,
            missing=missing,
            kept_edits=len(self.edits),
            kept_findings=len(self.findings),
        )
        return (False, feedback)

    # --- decisions ----------------------------------------------------------------------
    def _missing(self, have_items: bool, have_edits: bool) -> list[str]:
        missing: list[str] = []
        if self.policy.require_edits and not have_edits:
            missing.append(MISSING_EDITS)
        if self.message is None and (self.policy.message_crew or not have_items):
            missing.append(MISSING_MESSAGE if self.policy.message_crew else MISSING_ANYTHING)
        return missing

    def _within_permissions(self, answer: Answer) -> Answer:
        """Drop edits or findings the lead may not propose here (audited as refusals)."""
        dropped: dict[str, int] = {}
        if answer.edits and not self.may_edit:
            dropped["propose_edit"] = len(answer.edits)
            answer = replace(answer, edits=[])
        if answer.findings and not self.may_report:
            dropped["report_finding"] = len(answer.findings)
            answer = replace(answer, findings=[])
        for tool, count in dropped.items():
            self.state.audit(
                "permission_denied",
                {"agent": self.spec.lead, "tool": tool, "via": "final_answer", "count": count},
            )
            self.state.emit(
                "status",
                f"{count} result(s) dropped: {self.spec.lead} may not use {tool} here",
                stage="permission_denied",
                tool=tool,
            )
        return answer

    def _feedback(self, answer: Answer, missing: list[str], rejected: list[Rejection]) -> str:
        """What the model is sent back with: only what is missing, and what was kept."""
        parts = ["Your answer needs fixing."]
        if answer.problem:
            parts.append(answer.problem)
        if answer.truncated:
            parts.append("Your answer was cut off before it ended; answer more briefly.")
        kept = self._kept_summary()
        if kept:
            parts.append(f"Already kept from your answers: {kept}. Do not repeat them.")
        parts.append("Still missing: " + " | ".join(missing) + ".")
        if rejected:
            parts.append(
                "Not kept (send corrected versions if they matter): "
                + " | ".join(str(r) for r in rejected)
                + "."
            )
        parts.append("Answer with one JSON object holding only what is missing or corrected.")
        return " ".join(parts)

    def _kept_summary(self) -> str:
        kept: list[str] = []
        if self.message:
            kept.append("the message")
        if self.edits:
            kept.append(f"{len(self.edits)} edit(s)")
        if self.findings:
            kept.append(f"{len(self.findings)} finding(s)")
        return ", ".join(kept)

    def _still_rejected(self) -> list[Rejection]:
        """Rejections not made good later (a later attempt kept an item for the same path)."""
        out: list[Rejection] = []
        for attempt, rejection in self._rejected:
            fixed = any(
                later > attempt and kind == rejection.kind and path == rejection.path
                for later, kind, path in self._kept_at
            )
            if not fixed and rejection not in out:
                out.append(rejection)
        return out

    def _accept(self) -> tuple[bool, Any]:
        message = self.message or _synthesised(len(self.edits), len(self.findings))
        if self.cut_off and not message.endswith(CUT_OFF_NOTE):
            message += ITEM_CUT_NOTE
        rejected = self._still_rejected()
        if rejected:
            message += "\n\n**Not kept** (the model proposed these, but they did not check out):\n"
            message += "\n".join(f"- {r}" for r in rejected)
            self.state.emit(
                "status",
                f"{len(rejected)} item(s) of the model's answer not kept",
                stage="items_not_kept",
                items=[str(r) for r in rejected],
            )
            self.state.audit(
                "answer_items_rejected",
                {
                    "agent": self.spec.lead,
                    "count": len(rejected),
                    "items": [str(r) for r in rejected],
                },
            )
        self.report = CrewReport(message=message, edits=self.edits, findings=self.findings)
        return (True, self.report.model_dump_json())


def _synthesised(edits: int, findings: int) -> str:
    """A message for an answer that carried items but no words of its own."""
    parts = []
    if edits:
        parts.append(f"{edits} edit(s) proposed")
    if findings:
        parts.append(f"{findings} finding(s) reported")
    return ("; ".join(parts) or "No result") + " (the model gave no summary)."
