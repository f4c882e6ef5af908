"""Code actions: the agent crews offered at the cursor, computed from parsed context only.

Nothing here calls a model or touches the disk: the inputs are the request, the enclosing
symbol from the index and a few workspace traits, so the list is ready in milliseconds.
Actions are returned unresolved (title, kind, data); resolve only attaches the command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from llmgenie.context.models import Symbol

RUN_CREW_COMMAND = "llmgenie.runCrew"

KIND_FIX = types.CodeActionKind.QuickFix.value
KIND_EXPLAIN = "refactor.llmgenie.explain"
KIND_DOCUMENT = "refactor.rewrite.llmgenie.document"
KIND_REFACTOR = "refactor.rewrite.llmgenie.refactor"
KIND_TESTS = "refactor.llmgenie.tests"
KIND_COORDINATOR = "refactor.llmgenie.review"
KIND_SECURITY = "source.llmgenie.security"
KIND_PERFORMANCE = "source.llmgenie.performance"
KIND_DEVOPS = "source.llmgenie.devops"

ADVERTISED_KINDS = [
    KIND_FIX, "refactor", "refactor.rewrite", "refactor.llmgenie", "source", "source.llmgenie",
]  # fmt: skip

_CODE_KINDS = {
    "function",
    "method",
    "class",
    "struct",
    "interface",
    "enum",
    "impl",
    "trait",
    "module",
}
_TESTABLE_KINDS = {"function", "method", "class", "struct"}
_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec)/|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$"
)
_MAX_FIXES = 5
_CONTAINERIZE_PROMPT = (
    "Containerize this project: add a Dockerfile (and .dockerignore) that builds and runs it."
)
_CI_PROMPT = "Add a CI pipeline (GitHub Actions) that installs, lints and tests this project."


@dataclass(slots=True)
class ActionContext:
    """Everything the action list depends on."""

    uri: str
    range: types.Range
    language: str | None
    rel_path: str | None = None
    symbols: Sequence[Symbol] = ()
    diagnostics: Sequence[types.Diagnostic] = ()
    traits: dict[str, bool] = field(default_factory=dict)
    only: Sequence[str] | None = None


def enclosing_symbol(symbols: Sequence[Symbol], line: int) -> Symbol | None:
    """The innermost code symbol containing 1-based `line`."""
    best: Symbol | None = None
    for sym in symbols:
        if (
            sym.kind in _CODE_KINDS
            and sym.start_line <= line <= sym.end_line
            and (best is None or sym.end_line - sym.start_line < best.end_line - best.start_line)
        ):
            best = sym
    return best


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _symbol_range(sym: Symbol) -> types.Range:
    return types.Range(
        start=types.Position(line=sym.start_line - 1, character=0),
        end=types.Position(line=sym.end_line, character=0),
    )


def _action(
    title: str, kind: str, crew: str, uri: str, rng: types.Range, **extra: Any
) -> types.CodeAction:
    data: dict[str, Any] = {
        "crew": crew,
        "uri": uri,
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
    }
    data.update({k: v for k, v in extra.items() if v is not None})
    return types.CodeAction(title=title, kind=kind, data=data)


def compute_actions(ctx: ActionContext) -> list[types.CodeAction]:
    """The crews worth offering here, most specific first."""
    rng = ctx.range
    has_selection = rng.start != rng.end
    sym = enclosing_symbol(ctx.symbols, rng.start.line + 1)
    if has_selection:
        target, target_range = "the selection", rng
    elif sym is not None:
        target, target_range = f"`{sym.name}`", _symbol_range(sym)
    else:
        target, target_range = "this file", rng
    symbol_name = sym.qualified_name if sym is not None else None
    is_code = ctx.language is not None and ctx.language not in {"markdown", "json", "yaml", "toml"}
    actions: list[types.CodeAction] = []

    for diag in list(ctx.diagnostics)[:_MAX_FIXES]:
        first = diag.message.strip().splitlines()[0] if diag.message.strip() else "diagnostic"
        label = first if len(first) <= 60 else first[:57] + "..."
        action = _action(
            f"llmgenie: Fix: {label}",
            KIND_FIX,
            "fix",
            ctx.uri,
            diag.range,
            diagnostic=diag.message,
            symbol=symbol_name,
        )
        action.diagnostics = [diag]
        actions.append(action)

    actions.append(
        _action(
            f"llmgenie: Explain {target}",
            KIND_EXPLAIN,
            "explain",
            ctx.uri,
            target_range,
            symbol=symbol_name,
        )
    )
    if is_code and (sym is not None or has_selection):
        actions.append(
            _action(
                f"llmgenie: Document {target}",
                KIND_DOCUMENT,
                "document",
                ctx.uri,
                target_range,
                symbol=symbol_name,
            )
        )
        actions.append(
            _action(
                f"llmgenie: Refactor {target}",
                KIND_REFACTOR,
                "refactor",
                ctx.uri,
                target_range,
                symbol=symbol_name,
            )
        )
    is_test_file = bool(ctx.rel_path and _TEST_PATH.search(ctx.rel_path))
    if is_code and sym is not None and sym.kind in _TESTABLE_KINDS and not is_test_file:
        actions.append(
            _action(
                f"llmgenie: Write tests for {target}",
                KIND_TESTS,
                "tests",
                ctx.uri,
                target_range,
                symbol=symbol_name,
            )
        )
    if is_code:
        actions.append(
            _action(
                f"llmgenie: Security review of {target}",
                KIND_SECURITY,
                "security",
                ctx.uri,
                target_range,
                symbol=symbol_name,
            )
        )
        actions.append(
            _action(
                f"llmgenie: Performance review of {target}",
                KIND_PERFORMANCE,
                "performance",
                ctx.uri,
                target_range,
                symbol=symbol_name,
            )
        )
    if ctx.traits and not ctx.traits.get("has_dockerfile", True):
        actions.append(
            _action(
                "llmgenie: Containerize the project (Dockerfile)",
                KIND_DEVOPS,
                "devops",
                ctx.uri,
                rng,
                prompt=_CONTAINERIZE_PROMPT,
            )
        )
    if ctx.traits and not ctx.traits.get("has_ci", True):
        actions.append(
            _action(
                "llmgenie: Add CI (build and test on every push)",
                KIND_DEVOPS,
                "devops",
                ctx.uri,
                rng,
                prompt=_CI_PROMPT,
            )
        )
    actions.append(
        _action(
            f"llmgenie: Ask the coordinator about {target}",
            KIND_COORDINATOR,
            "review",
            ctx.uri,
            target_range,
            symbol=symbol_name,
        )
    )
    return [a for a in actions if a.kind is not None and _wanted(a.kind, ctx.only)]


def resolve_action(action: types.CodeAction) -> types.CodeAction:
    """Attach the llmgenie.runCrew command carrying the action's data (no model call)."""
    if isinstance(action.data, dict) and "crew" in action.data:
        action.command = types.Command(
            title=action.title, command=RUN_CREW_COMMAND, arguments=[action.data]
        )
    return action
