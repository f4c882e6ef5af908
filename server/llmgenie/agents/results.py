"""Structured crew output: the schema agents answer in, and its validation.

A crew's final answer must be one JSON object matching `CrewReport`. Validation is more
than the schema: every edit must be an exact replacement that applies to the current file
text exactly once (so it can become an LSP WorkspaceEdit), edits must not overlap, and
every finding must point at real lines. A failed check produces an `InvalidReport` whose
message is written for the model, which is shown it and asked to try again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.contracts.errors import PathEscapeError
from llmgenie.contracts.runs import Finding, ProposedEdit, RunResult

_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
_CWE = re.compile(r"^CWE-\d{1,4}$")


class CrewReport(BaseModel):
    """What every crew answers with: a message for the user, edits and findings."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="the answer for the user, in Markdown")
    edits: list[ProposedEdit] = Field(
        default_factory=list,
        description="exact text replacements: old_text copied verbatim from the file, "
        "unique in it; old_text empty only to create a new file",
    )
    findings: list[Finding] = Field(
        default_factory=list, description="problems found, with 1-based inclusive lines"
    )


class InvalidReport(ValueError):
    """The answer did not validate; the message tells the model exactly what to fix."""


@dataclass(frozen=True)
class ReportPolicy:
    """Per-crew requirements on top of the schema."""

    require_edits: bool = False
    finding_rule: str | None = None  # "cwe": rules must be CWE ids


def parse_report(raw: str) -> CrewReport:
    """Parse the model's final answer (tolerating a code fence around the JSON)."""
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    if not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start == -1 or end <= start:
            raise InvalidReport(
                "Your final answer is not a JSON object. Answer with exactly one JSON object "
                'with the keys "message", "edits" and "findings", and nothing else.'
            )
        text = text[start : end + 1]
    try:
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise InvalidReport(
            f"Your final answer is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}). Answer with exactly one JSON object; escape newlines and quotes "
            "inside strings."
        ) from exc
    try:
        return CrewReport.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()[:8]
        )
        raise InvalidReport(f"Your final answer does not match the schema: {problems}.") from exc


def _span(text: str, old: str) -> tuple[int, int]:
    return (text.index(old), text.index(old) + len(old))


def check_edit(
    view: WorkspaceView, edit: ProposedEdit, accepted: Iterable[ProposedEdit] = ()
) -> ProposedEdit:
    """Return `edit` with a normalised path if it applies cleanly; raise InvalidReport if not.

    The rule that makes edits safe to apply later: `old_text` occurs exactly once in the
    current text, and its span does not overlap another accepted edit to the same file.
    An empty `old_text` creates a new file and is only allowed where no file exists.
    """
    try:
        rel = view.rel(edit.path)
    except PathEscapeError as exc:
        raise InvalidReport(f"edit to {edit.path!r} refused: {exc}") from exc
    if edit.old_text == edit.new_text:
        raise InvalidReport(f"edit to {rel}: old_text and new_text are identical")
    current = view.read(rel)
    normalised = edit.model_copy(update={"path": rel})
    if edit.old_text == "":
        if current is not None and current != "":
            raise InvalidReport(
                f"edit to {rel}: old_text is empty, which means 'create a new file', but "
                f"{rel} exists; copy the exact text to replace from the file instead"
            )
        if any(other.path == rel for other in accepted):
            raise InvalidReport(f"edit to {rel}: the file is already being created")
        return normalised
    if current is None:
        raise InvalidReport(
            f"edit to {rel}: no such file; use an empty old_text to create a new file"
        )
    count = current.count(edit.old_text)
    if count == 0 and "\r\n" in current and "\n" in edit.old_text:
        # A CRLF file: models write "\n"; match (and replace) with the file's line endings.
        crlf_old = edit.old_text.replace("\r\n", "\n").replace("\n", "\r\n")
        if current.count(crlf_old):
            crlf_new = edit.new_text.replace("\r\n", "\n").replace("\n", "\r\n")
            edit = edit.model_copy(update={"old_text": crlf_old, "new_text": crlf_new})
            normalised = edit.model_copy(update={"path": rel})
            count = current.count(crlf_old)
    if count == 0:
        raise InvalidReport(
            f"edit to {rel}: old_text was not found in the current file. Copy it exactly "
            "from the file (same indentation and line breaks, without line numbers)"
        )
    if count > 1:
        raise InvalidReport(
            f"edit to {rel}: old_text occurs {count} times; include more surrounding lines "
            "so that it matches exactly once"
        )
    start, end = _span(current, edit.old_text)
    for other in accepted:
        if other.path != rel or not other.old_text or other.old_text not in current:
            continue
        o_start, o_end = _span(current, other.old_text)
        if start < o_end and o_start < end:
            raise InvalidReport(
                f"edit to {rel}: it overlaps an earlier edit to the same lines; merge them "
                "into one edit"
            )
    return normalised


def check_finding(view: WorkspaceView, finding: Finding, policy: ReportPolicy) -> Finding:
    """Return `finding` with a normalised path if it points at real lines; else raise."""
    try:
        rel = view.rel(finding.path)
    except PathEscapeError as exc:
        raise InvalidReport(f"finding in {finding.path!r} refused: {exc}") from exc
    text = view.read(rel)
    if text is None:
        raise InvalidReport(f"finding in {rel}: no such file")
    lines = max(1, len(text.splitlines()))
    if finding.end_line < finding.start_line:
        raise InvalidReport(
            f"finding in {rel}: end_line {finding.end_line} is before start_line "
            f"{finding.start_line}"
        )
    if finding.start_line > lines:
        raise InvalidReport(
            f"finding in {rel}: start_line {finding.start_line} is past the end of the file "
            f"({lines} lines)"
        )
    rule = finding.rule.strip()
    if not rule:
        raise InvalidReport(f"finding in {rel}: rule is empty")
    if policy.finding_rule == "cwe" and not _CWE.match(rule.upper()):
        raise InvalidReport(
            f"finding in {rel}: rule {finding.rule!r} is not a CWE id; use the form CWE-89"
        )
    if policy.finding_rule == "cwe":
        rule = rule.upper()
    return finding.model_copy(
        update={"path": rel, "rule": rule, "end_line": min(finding.end_line, lines)}
    )


def validate_report(
    report: CrewReport,
    view: WorkspaceView,
    policy: ReportPolicy,
    recorded_edits: list[ProposedEdit],
    recorded_findings: list[Finding],
) -> CrewReport:
    """Check every edit and finding of `report` (against those tools already recorded)."""
    problems: list[str] = []
    accepted: list[ProposedEdit] = list(recorded_edits)
    edits: list[ProposedEdit] = []
    for index, edit in enumerate(report.edits, start=1):
        try:
            rel = view.rel(edit.path)
        except PathEscapeError:
            rel = edit.path  # check_edit reports it
        if any(e.path == rel and e.old_text == edit.old_text for e in recorded_edits):
            continue  # the same edit was already proposed through the tool
        try:
            checked = check_edit(view, edit, accepted)
        except InvalidReport as exc:
            problems.append(f"edits[{index}]: {exc}")
            continue
        accepted.append(checked)
        edits.append(checked)
    findings: list[Finding] = []
    seen = {(f.path, f.start_line, f.rule) for f in recorded_findings}
    for index, finding in enumerate(report.findings, start=1):
        try:
            checked_finding = check_finding(view, finding, policy)
        except InvalidReport as exc:
            problems.append(f"findings[{index}]: {exc}")
            continue
        key = (checked_finding.path, checked_finding.start_line, checked_finding.rule)
        if key not in seen:
            findings.append(checked_finding)
    if policy.require_edits and not edits and not recorded_edits:
        problems.append(
            "this task must propose at least one edit (in 'edits' or with the propose_edit tool)"
        )
    if problems:
        raise InvalidReport("Your answer needs fixing: " + " | ".join(problems))
    return report.model_copy(update={"edits": edits, "findings": findings})


def merge_result(
    report: CrewReport,
    recorded_edits: list[ProposedEdit],
    recorded_findings: list[Finding],
) -> RunResult:
    """Combine the final answer with what the tools recorded, without duplicates."""
    edits = list(recorded_edits)
    for edit in report.edits:
        if not any(e.path == edit.path and e.old_text == edit.old_text for e in edits):
            edits.append(edit)
    findings = list(recorded_findings)
    for finding in report.findings:
        key = (finding.path, finding.start_line, finding.rule)
        if not any((f.path, f.start_line, f.rule) == key for f in findings):
            findings.append(finding)
    return RunResult(message=report.message, edits=edits, findings=findings)
