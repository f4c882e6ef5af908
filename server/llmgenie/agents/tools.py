"""Agent tools backed by the context engine, independent of any agent framework.

`AgentToolbox.call(name, args)` is the single entry point used both by the CrewAI tool
wrappers and by the chat's native function calling. Every call is checked against the
run's permission decision, audited, announced as a RunEvent, confined to the workspace,
and its output redacted before a model sees it. Tools never raise for bad input: they
return an error string the agent can read and react to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from llmgenie.agents.briefing import tool_output_chars
from llmgenie.agents.knowledge import KnowledgeBase, Topic, format_hits
from llmgenie.agents.results import InvalidReport, ReportPolicy, check_edit, check_finding
from llmgenie.agents.run_state import RunState
from llmgenie.agents.workspace_view import MAX_READ_BYTES, WorkspaceView
from llmgenie.contracts.errors import PathEscapeError
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import Finding, ProposedEdit
from llmgenie.observability.logging import get_logger
from llmgenie.redaction import redact_path_text
from llmgenie.workspace.files import FileTooLargeError, NotRegularFileError

log = get_logger(__name__)

MAX_OUTPUT_CHARS = 12_000
MAX_READ_LINES = 400


class SearchCodeArgs(BaseModel):
    query: str = Field(description="what to look for: identifiers, behaviour, error text")
    k: int = Field(8, ge=1, le=25, description="how many results")


class ReadFileArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")
    start_line: int | None = Field(None, ge=1, description="first line (1-based), optional")
    end_line: int | None = Field(None, ge=1, description="last line (inclusive), optional")


class ListSymbolsArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")


class FindReferencesArgs(BaseModel):
    name: str = Field(description="identifier to look up (function, class, variable)")


class LocalizeArgs(BaseModel):
    task: str = Field(
        description="the task or issue text, verbatim: what is wrong or wanted, error text"
    )


class RepoMapArgs(BaseModel):
    focus: str | None = Field(None, description="file to centre the map on, optional")


class SearchKnowledgeArgs(BaseModel):
    query: str = Field(description="topic to look up, e.g. 'dockerfile non-root user'")
    topic: Topic | None = Field(
        None, description="devops, security, performance or documentation; optional"
    )


class ProposeEditArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")
    old_text: str = Field(
        description="exact current text to replace, copied verbatim (no line numbers), "
        "unique in the file; empty only to create a new file"
    )
    new_text: str = Field(description="replacement text")
    description: str = Field("", description="one line: what the edit does and why")


class ReportFindingArgs(BaseModel):
    path: str = Field(description="workspace-relative file path")
    start_line: int = Field(ge=1, description="first line (1-based)")
    end_line: int | None = Field(None, ge=1, description="last line (inclusive)")
    severity: Literal["error", "warning", "info", "hint"] = "warning"
    rule: str = Field(description="rule id, e.g. CWE-89 or PERF-quadratic-loop")
    message: str = Field(description="what is wrong and why it matters")
    fix: str = Field("", description="how to fix it")


class ToolSpec(BaseModel):
    """A tool's name, the description the model reads, and its argument schema."""

    name: str
    description: str
    args: type[BaseModel]


TOOL_SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="search_code",
            description="Hybrid search over the workspace code and docs; returns the best "
            "matching snippets with file paths and line ranges.",
            args=SearchCodeArgs,
        ),
        ToolSpec(
            name="read_file",
            description="Read a workspace file, or a line range of it. Lines are prefixed "
            "with their 1-based number and '| ' (the prefix is not part of the file).",
            args=ReadFileArgs,
        ),
        ToolSpec(
            name="list_symbols",
            description="List the functions, classes and other definitions in a file, with "
            "their line ranges.",
            args=ListSymbolsArgs,
        ),
        ToolSpec(
            name="find_references",
            description="Find where an identifier is defined and where it is used.",
            args=FindReferencesArgs,
        ),
        ToolSpec(
            name="localize",
            description="Find the files and functions a task or issue is about, before "
            "reading code: searches, follows definitions and references, and returns a ranked "
            "list of locations (path, function, lines) with the reason for each.",
            args=LocalizeArgs,
        ),
        ToolSpec(
            name="repo_map",
            description="A compact outline of the most relevant files and their symbols.",
            args=RepoMapArgs,
        ),
        ToolSpec(
            name="search_knowledge",
            description="Search curated engineering guidance (DevOps, security/CWE, "
            "performance, documentation) and the workspace's own docs.",
            args=SearchKnowledgeArgs,
        ),
        ToolSpec(
            name="propose_edit",
            description="Propose an exact text replacement in a file for the user to "
            "review. old_text must match the current file exactly once.",
            args=ProposeEditArgs,
        ),
        ToolSpec(
            name="report_finding",
            description="Report a problem at a precise location with severity, rule id "
            "(e.g. CWE-89) and a fix.",
            args=ReportFindingArgs,
        ),
    )
}


def _clip(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… (truncated, {len(text) - limit} more characters)"


def _summarise_args(args: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """Arguments as audited and shown: redacted, long strings shortened (edits can be large)."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str):
            # Only (a margin around) the shown part is redacted: an edit can be megabytes.
            size = len(value)
            value = redact(value[:1000])
            if size > 200:
                value = value[:200] + f"… ({size} chars)"
        out[key] = value
    return out


class AgentToolbox:
    """The tools of one agent role in one run."""

    def __init__(
        self,
        state: RunState,
        role: str,
        knowledge: KnowledgeBase | None = None,
        policy: ReportPolicy | None = None,
    ) -> None:
        self.state = state
        self.role = role
        self.view = WorkspaceView(state.root, state.env.engine)
        self.knowledge = knowledge or KnowledgeBase(state.env.engine)
        self.policy = policy or ReportPolicy()
        self._limit: int | None = None
        self._handlers: dict[str, Callable[[Any], str]] = {
            "search_code": self._search_code,
            "read_file": self._read_file,
            "list_symbols": self._list_symbols,
            "find_references": self._find_references,
            "localize": self._localize,
            "repo_map": self._repo_map,
            "search_knowledge": self._search_knowledge,
            "propose_edit": self._propose_edit,
            "report_finding": self._report_finding,
        }

    # entry point -------------------------------------------------------------------
    def allowed(self, name: str) -> bool:
        """Whether the run's permission decision lets this role use `name`."""
        return name in self.state.env.permissions.allowed_tools.get(self.role, [])

    def call(self, name: str, args: dict[str, Any] | str | None) -> str:
        """Run tool `name` with `args`: permission, audit, event, redaction, error strings."""
        self.state.raise_if_stopped()
        spec = TOOL_SPECS.get(name)
        if spec is None:
            return f"Error: unknown tool {name!r}; available: {', '.join(TOOL_SPECS)}"
        raw_args = self._decode_args(args)
        if isinstance(raw_args, str):
            return raw_args
        audit_args = _summarise_args(raw_args, self.state.env.redact)
        if not self.allowed(name):
            self.state.audit(
                "permission_denied", {"agent": self.role, "tool": name, "args": audit_args}
            )
            self.state.emit(
                "tool", f"{self.role}: {name} refused", agent=self.role, tool=name, denied=True
            )
            log.info("tool_denied", run_id=self.state.run_id, agent=self.role, tool=name)
            return (
                f"Permission denied: the {self.role} agent is not allowed to use {name} in "
                "this workspace. Continue with the tools you are allowed to use."
            )
        self.state.audit("tool_called", {"agent": self.role, "tool": name, "args": audit_args})
        self.state.emit("tool", f"{self.role}: {name}", agent=self.role, tool=name, args=audit_args)
        try:
            parsed = spec.args.model_validate(raw_args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            return f"Error: invalid arguments for {name}: {problems}"
        try:
            output = self._handlers[name](parsed)
        except Cancelled:
            raise
        except PathEscapeError as exc:
            self.state.audit("path_refused", {"agent": self.role, "tool": name, "reason": str(exc)})
            output = f"Error: {exc}. Tools only work inside the workspace."
        except NotRegularFileError as exc:
            output = f"Error: {exc}; tools only read regular files (not FIFOs or devices)."
        except FileTooLargeError as exc:
            output = (
                f"Error: {exc}; whole files are loaded only up to {MAX_READ_BYTES} bytes "
                "(read_file reads line ranges of any file)."
            )
        except Exception as exc:  # a tool failure is information for the agent, not a crash
            log.warning(
                "tool_failed",
                run_id=self.state.run_id,
                tool=name,
                error=f"{type(exc).__name__}: {exc}",
            )
            output = f"Error: {name} failed: {type(exc).__name__}: {exc}"
        return _clip(self.state.env.redact(output), self._output_limit())

    def _output_limit(self) -> int:
        """Characters a tool result may take, sized to this role's model's window."""
        if self._limit is None:
            window = self.state.client_for(self.role).context_window()  # type: ignore[arg-type]
            self._limit = tool_output_chars(window, MAX_OUTPUT_CHARS)
        return self._limit

    @staticmethod
    def _decode_args(args: dict[str, Any] | str | None) -> dict[str, Any] | str:
        if args is None:
            return {}
        if isinstance(args, dict):
            return args
        try:
            decoded = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as exc:
            return f"Error: tool arguments are not valid JSON: {exc.msg}"
        if not isinstance(decoded, dict):
            return "Error: tool arguments must be a JSON object"
        return decoded

    # read tools ----------------------------------------------------------------------
    def _search_code(self, args: SearchCodeArgs) -> str:
        result = self.state.env.engine.search(
            args.query, k=args.k, focus=self.state.ctx.request.path
        )
        if not result.chunks and not result.files:
            return f"No results for {args.query!r}."
        blocks: list[str] = []
        for hit in result.chunks[: args.k]:
            title = f" ({hit.symbol})" if hit.symbol else ""
            text = hit.text
            if text is None:
                current = self.view.read(hit.path) or ""
                text = "\n".join(current.splitlines()[hit.start_line - 1 : hit.end_line])
            lines = redact_path_text(self.state.env.redact, hit.path, text).splitlines()
            if len(lines) > 30:
                lines = [*lines[:30], "…"]
            numbered = "\n".join(f"{hit.start_line + i:>5}| {line}" for i, line in enumerate(lines))
            blocks.append(f"{hit.path}:{hit.start_line}-{hit.end_line}{title}\n{numbered}")
        if not blocks:
            blocks = [f"{f.path} (score {f.score:.3f})" for f in result.files[: args.k]]
        if result.degraded:
            blocks.append("note: " + "; ".join(result.degraded))
        return "\n\n".join(blocks)

    def _read_file(self, args: ReadFileArgs) -> str:
        rel = self.view.rel(args.path)
        start = args.start_line or 1
        end = min(args.end_line or start + MAX_READ_LINES - 1, start + MAX_READ_LINES - 1)
        window = self.view.window(rel, start, end)
        if window is None:
            return f"Error: no such file: {rel}"
        total = window.total
        if start > max(1, total):
            return f"Error: {rel} has {total} lines; start_line {start} is past the end"
        end = start + len(window.lines) - 1 if window.lines else min(end, total)
        shown = redact_path_text(self.state.env.redact, rel, "\n".join(window.lines))
        body = "\n".join(f"{start + i:>5}| {line}" for i, line in enumerate(shown.splitlines()))
        cut = f"; long lines cut, at most {MAX_READ_BYTES} bytes" if window.cut else ""
        more = f"\n(… {total - end} more lines)" if end < total else ""
        return f"{rel} (lines {start}-{end} of {total}{cut})\n{body}{more}"

    def _list_symbols(self, args: ListSymbolsArgs) -> str:
        rel = self.view.rel(args.path)
        symbols = self.state.env.engine.symbols(rel)
        if not symbols:
            return f"No symbols found in {rel}."
        return "\n".join(
            f"{s.kind} {s.qualified_name} (lines {s.start_line}-{s.end_line})"
            + (f": {s.signature}" if s.signature else "")
            for s in symbols
        )

    def _find_references(self, args: FindReferencesArgs) -> str:
        engine = self.state.env.engine
        definitions = engine.find_definitions(args.name)
        references = engine.find_references(args.name)
        if not definitions and not references:
            return f"No definitions or references of {args.name!r}."
        out = [f"Definitions of {args.name}:"]
        out += [
            f"  {d.path}:{d.start_line}-{d.end_line} {d.kind} {d.qualified_name}"
            for d in definitions[:50]
        ]
        out.append(f"References ({len(references)}):")
        out += [f"  {r.path}:{r.line} ({r.kind})" for r in references[:100]]
        return "\n".join(out)

    def _localize(self, args: LocalizeArgs) -> str:
        from llmgenie.agents.localize import Localizer, format_localization

        localizer = Localizer(
            self.state.env.engine,
            self.state.client_for(self.role),  # type: ignore[arg-type]
            focus=self.state.ctx.request.path,
            on_completion=self.state.record_completion,
            redact=self.state.env.redact,
        )
        return format_localization(localizer.localize(args.task))

    def _repo_map(self, args: RepoMapArgs) -> str:
        focus = self.view.rel(args.focus) if args.focus else self.state.ctx.request.path
        return self.state.env.engine.repo_map(focus=focus, tokens=1024) or "(empty repository map)"

    def _search_knowledge(self, args: SearchKnowledgeArgs) -> str:
        return format_hits(self.knowledge.search(args.query, k=4, topic=args.topic))

    # recording tools -------------------------------------------------------------------
    def _propose_edit(self, args: ProposeEditArgs) -> str:
        edit = ProposedEdit(
            path=args.path,
            old_text=args.old_text,
            new_text=args.new_text,
            description=args.description,
        )
        try:
            checked = check_edit(self.view, edit, self.state.snapshot_edits())
        except InvalidReport as exc:
            return f"Error: edit not recorded: {exc}"
        number = self.state.add_edit(checked)
        self.state.audit(
            "edit_proposed",
            {"agent": self.role, "path": checked.path, "description": checked.description},
        )
        self.state.emit(
            "progress", f"edit proposed to {checked.path}", agent=self.role, path=checked.path
        )
        return (
            f"Edit #{number} to {checked.path} recorded; the user will review and apply it. "
            "Do not repeat it in your final answer."
        )

    def _report_finding(self, args: ReportFindingArgs) -> str:
        finding = Finding(
            path=args.path,
            start_line=args.start_line,
            end_line=args.end_line or args.start_line,
            severity=args.severity,
            rule=args.rule,
            message=args.message,
            fix=args.fix,
        )
        try:
            checked = check_finding(self.view, finding, self.policy)
        except InvalidReport as exc:
            return f"Error: finding not recorded: {exc}"
        number = self.state.add_finding(checked)
        self.state.audit(
            "finding_reported",
            {
                "agent": self.role,
                "path": checked.path,
                "rule": checked.rule,
                "line": checked.start_line,
            },
        )
        self.state.emit(
            "progress",
            f"finding {checked.rule} in {checked.path}:{checked.start_line}",
            agent=self.role,
        )
        return (
            f"Finding #{number} ({checked.rule}, {checked.path}:{checked.start_line}) recorded. "
            "Do not repeat it in your final answer."
        )


def openai_tool_schemas(names: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """OpenAI function-calling schemas for `names` (used by the chat)."""
    schemas: list[dict[str, Any]] = []
    for name in names:
        spec = TOOL_SPECS[name]
        params = spec.args.model_json_schema()
        params.pop("title", None)
        schemas.append(
            {
                "type": "function",
                "function": {"name": name, "description": spec.description, "parameters": params},
            }
        )
    return schemas
