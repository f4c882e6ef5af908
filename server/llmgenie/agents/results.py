"""Structured crew output: the schema agents answer in, and how an answer is read.

A crew's final answer should be one JSON object matching `CrewReport`, but real models are
sloppy, so reading it is lenient where leniency is harmless and strict where it matters:

- lenient: extra keys are ignored; the message may come under another name (`summary`,
  `answer`, ...); the JSON may sit in a fence, in prose, after reasoning or after "Final
  Answer:"; an answer cut off mid-object keeps its complete items, and a message cut off
  mid-sentence is kept as written, marked as cut off; for crews whose result is a message,
  plain Markdown is the message.
- strict, per item: every edit must be an exact replacement that applies to the current
  file text exactly once (so it can become an LSP WorkspaceEdit) without overlapping
  another, inside the workspace; every finding must point at real lines. An invalid item
  is rejected on its own (`Rejection`, reported to the user), never silently dropped, and
  never takes the valid items of the same answer down with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmgenie.agents.lenient_json import (
    answer_text,
    cut_off_string,
    json_values,
    recover_truncated,
)
from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.contracts.errors import PathEscapeError
from llmgenie.contracts.runs import Finding, ProposedEdit, RunResult
from llmgenie.llm.text_protocol import strip_reasoning

# The most text one proposed edit may replace or insert: bigger edits are no review-sized
# change, and their text would ride along in every later model request of the run.
MAX_EDIT_CHARS = 256_000

_CWE = re.compile(r"^CWE-\d{1,4}$")

# Ends a message the model stopped writing mid-way (its output limit): the user sees it.
CUT_OFF_NOTE = "\n\n*(cut off: the model stopped before finishing this answer)*"

# One source of truth for the names models use instead of ours (first match wins).
MESSAGE_KEYS = ("message", "summary", "answer", "explanation", "response", "result", "text")
EDIT_KEYS = {
    "path": ("path", "file", "file_path", "filename"),
    "old_text": ("old_text", "old", "search", "original", "find"),
    "new_text": ("new_text", "new", "replacement", "replace"),
    "description": ("description", "summary", "reason"),
}
FINDING_KEYS = {
    "path": ("path", "file", "file_path", "filename"),
    "start_line": ("start_line", "line", "line_start", "start"),
    "end_line": ("end_line", "line_end", "end"),
    "severity": ("severity", "level"),
    "rule": ("rule", "rule_id", "cwe", "id", "type"),
    "message": ("message", "description", "issue", "problem"),
    "fix": ("fix", "recommendation", "suggestion", "remediation"),
}
_SEVERITY = {
    "critical": "error",
    "high": "error",
    "error": "error",
    "medium": "warning",
    "moderate": "warning",
    "warning": "warning",
    "low": "info",
    "info": "info",
    "note": "info",
    "hint": "hint",
}


def _first(data: dict[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        if data.get(name) not in (None, ""):
            return data[name]
    return None


def _message_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(value).strip() or None
    return None


class CrewReport(BaseModel):
    """What every crew answers with: a message for the user, edits and findings."""

    model_config = ConfigDict(extra="ignore")

    message: str = Field(description="the answer for the user, in Markdown")
    edits: list[ProposedEdit] = Field(
        default_factory=list,
        description="exact text replacements: old_text copied verbatim from the file, "
        "unique in it; old_text empty only to create a new file",
    )
    findings: list[Finding] = Field(
        default_factory=list, description="problems found, with 1-based inclusive lines"
    )

    @model_validator(mode="before")
    @classmethod
    def _message_under_another_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "message" not in data:
            found = _message_of(_first(data, MESSAGE_KEYS))
            if found is not None:
                data = {**data, "message": found}
        return data


class InvalidReport(ValueError):
    """An edit or finding (or the answer) did not validate; the text says what to fix."""


@dataclass(frozen=True)
class ReportPolicy:
    """Per-crew requirements on top of the schema."""

    require_edits: bool = False
    finding_rule: str | None = None  # "cwe": rules must be CWE ids
    message_crew: bool = False  # the message is the result: prose is accepted as it


@dataclass
class Answer:
    """What could be read from one final answer, before the per-item checks."""

    message: str | None = None
    edits: list[Any] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    truncated: bool = False
    problem: str | None = None  # why nothing structured could be read, for the model


@dataclass(frozen=True)
class Rejection:
    """One edit or finding of an answer that was not kept, and why."""

    kind: Literal["edit", "finding"]
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.kind} to {self.path}: {self.reason}"
            if self.kind == "edit"
            else (f"finding in {self.path}: {self.reason}")
        )


def _looks_like_report(value: Any) -> bool:
    return isinstance(value, dict) and any(
        key in value for key in (*MESSAGE_KEYS, "edits", "findings")
    )


def _as_answer(data: dict[str, Any], truncated: bool = False) -> Answer:
    edits = data.get("edits")
    findings = data.get("findings")
    return Answer(
        message=_message_of(_first(data, MESSAGE_KEYS)),
        edits=edits if isinstance(edits, list) else ([edits] if isinstance(edits, dict) else []),
        findings=findings
        if isinstance(findings, list)
        else ([findings] if isinstance(findings, dict) else []),
        truncated=truncated,
    )


def _bare_items(value: Any) -> Answer | None:
    """A JSON list of edits or findings given without the surrounding object."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return None
    if all(_first(v, EDIT_KEYS["old_text"]) is not None or "new_text" in v for v in value):
        return Answer(edits=list(value))
    if all(_first(v, FINDING_KEYS["start_line"]) is not None for v in value):
        return Answer(findings=list(value))
    return None


def parse_answer(raw: str, policy: ReportPolicy) -> Answer:
    """Read a final answer as leniently as is honest (see the module docstring)."""
    text = strip_reasoning(raw)
    if not text:
        return Answer(problem="Your final answer was empty.")
    values = list(json_values(text))
    for value in values:
        if _looks_like_report(value):
            return _as_answer(value)
    for value in values:
        bare = _bare_items(value)
        if bare is not None:
            return bare
    recovered = recover_truncated(text)
    answer = (
        _as_answer(recovered, truncated=True)
        if recovered is not None and _looks_like_report(recovered)
        else None
    )
    cut = cut_off_string(text)
    if cut is not None and cut[0] in MESSAGE_KEYS and cut[1].strip():
        # Stopped mid-message (the output limit): what was written is the user's, marked
        # as cut; nothing is guessed.
        answer = answer or Answer(truncated=True)
        if answer.message is None:
            answer.message = cut[1].rstrip() + CUT_OFF_NOTE
    if answer is not None:
        return answer
    prose = answer_text(text)
    if policy.message_crew and prose and not prose.lstrip().startswith(("{", "[")):
        return Answer(message=prose)
    if "{" in text:
        candidate = text[text.find("{") :].rstrip()
        try:
            json.loads(candidate, strict=False)
        except json.JSONDecodeError as exc:
            if exc.msg.startswith("Unterminated string") or exc.pos >= len(candidate):
                return Answer(
                    problem="Your final answer stops before its JSON object ends.",
                    truncated=True,
                )
            return Answer(
                problem=f"Your final answer is not valid JSON ({exc.msg} at line {exc.lineno} "
                f"column {exc.colno}); escape newlines and quotes inside strings."
            )
    return Answer(
        problem="Your final answer is not a JSON object. Answer with exactly one JSON object "
        'with the keys "message", "edits" and "findings", and nothing else.'
    )


def _normalise(item: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, aliases in keys.items():
        value = item.get(name) if name in item else _first(item, aliases)
        if value is not None:
            out[name] = value
    return out


def _schema_problem(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(item)'}: {err['msg']}"
        for err in exc.errors()[:4]
    )


def edit_from(item: Any) -> ProposedEdit:
    """One edit from a model's JSON item (key aliases accepted); InvalidReport if unusable."""
    if not isinstance(item, dict):
        raise InvalidReport("an edit must be an object with path, old_text and new_text")
    data = _normalise(item, EDIT_KEYS)
    try:
        return ProposedEdit.model_validate(data)
    except ValidationError as exc:
        raise InvalidReport(_schema_problem(exc)) from exc


def finding_from(item: Any) -> Finding:
    """One finding from a model's JSON item (aliases, severity words, a single line)."""
    if not isinstance(item, dict):
        raise InvalidReport("a finding must be an object with path, start_line, rule, message")
    data = _normalise(item, FINDING_KEYS)
    if "end_line" not in data and "start_line" in data:
        data["end_line"] = data["start_line"]
    severity = str(data.get("severity", "warning")).strip().lower()
    data["severity"] = _SEVERITY.get(severity, "warning")
    try:
        return Finding.model_validate(data)
    except ValidationError as exc:
        raise InvalidReport(_schema_problem(exc)) from exc


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
    for name, text in (("old_text", edit.old_text), ("new_text", edit.new_text)):
        if len(text) > MAX_EDIT_CHARS:
            raise InvalidReport(
                f"edit to {rel}: {name} has {len(text)} characters, more than the "
                f"{MAX_EDIT_CHARS} an edit may have; split the change into smaller edits"
            )
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


@dataclass
class CheckedItems:
    """The edits and findings of one answer that passed their checks, and those that did not."""

    edits: list[ProposedEdit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _path_label(view: WorkspaceView, item: Any) -> str:
    raw = _first(item, EDIT_KEYS["path"]) if isinstance(item, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return "(no path)"
    try:
        return view.rel(raw)
    except PathEscapeError:
        return raw


def check_items(
    answer: Answer,
    view: WorkspaceView,
    policy: ReportPolicy,
    known_edits: list[ProposedEdit],
    known_findings: list[Finding],
) -> CheckedItems:
    """Check each edit and finding of `answer` on its own; keep the valid, list the rest.

    `known_*` are what is already kept (recorded by tools, or by an earlier attempt): an
    item repeating one of them is skipped silently, and new edits must not overlap them.
    """
    out = CheckedItems()
    accepted = list(known_edits)
    for item in answer.edits:
        try:
            edit = edit_from(item)
            try:
                rel = view.rel(edit.path)
            except PathEscapeError:
                rel = edit.path  # check_edit reports it
            if any(e.path == rel and e.old_text == edit.old_text for e in accepted):
                continue  # already kept (through the tool, or in an earlier answer)
            checked = check_edit(view, edit, accepted)
        except InvalidReport as exc:
            out.rejected.append(Rejection("edit", _path_label(view, item), _reason(exc)))
            continue
        accepted.append(checked)
        out.edits.append(checked)
    seen = {(f.path, f.start_line, f.rule) for f in known_findings}
    for item in answer.findings:
        try:
            checked_finding = check_finding(view, finding_from(item), policy)
        except InvalidReport as exc:
            out.rejected.append(Rejection("finding", _path_label(view, item), _reason(exc)))
            continue
        key = (checked_finding.path, checked_finding.start_line, checked_finding.rule)
        if key not in seen:
            seen.add(key)
            out.findings.append(checked_finding)
    return out


def _reason(exc: InvalidReport) -> str:
    """The error without its "edit to PATH: " prefix (the Rejection carries the path)."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith(("edit to ", "finding in ")) else text


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
