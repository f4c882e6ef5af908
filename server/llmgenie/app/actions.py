"""Which crews to offer where: the suggested-actions policy, pure and fast.

Nothing here calls a model or touches the disk: the inputs are where the user is, the
file's indexed symbols, the diagnostics at the cursor and the workspace traits, so the
list is ready in milliseconds on every cursor move. Lines are 1-based inclusive; adapters
convert to their own positions and kinds come from llmgenie.contracts.ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llmgenie.contracts.ids import COMMAND_CONFIGURE_MODEL, CREW_BY_ID, CrewName
from llmgenie.contracts.symbols import Symbol
from llmgenie.workspace.classify import is_test_path

CODE_KINDS = frozenset(
    {"function", "method", "class", "struct", "interface", "enum", "impl", "trait", "module"}
)
TESTABLE_KINDS = frozenset({"function", "method", "class", "struct"})
PROSE_LANGUAGES = frozenset({"markdown", "json", "yaml", "toml"})
MAX_FIXES = 5
CONTAINERIZE_PROMPT = (
    "Containerize this project: add a Dockerfile (and .dockerignore) that builds and runs it."
)
CI_PROMPT = "Add a CI pipeline (GitHub Actions) that installs, lints and tests this project."


@dataclass(frozen=True, slots=True)
class LineSpan:
    """1-based inclusive lines."""

    start: int
    end: int


@dataclass(slots=True)
class ActionContext:
    """Everything the action list depends on."""

    rel_path: str | None
    language: str | None
    cursor_line: int
    has_selection: bool
    symbols: Sequence[Symbol] = ()
    diagnostics: Sequence[str] = ()
    traits: dict[str, bool] = field(default_factory=dict)
    team_server: bool = False
    model_configured: bool = True


@dataclass(frozen=True, slots=True)
class SuggestedAction:
    """One crew worth offering: what it says, which crew, and the lines it targets.

    `span` None means the user's own range (selection or cursor); `diagnostic` is the
    index into ActionContext.diagnostics of the problem a fix action targets.
    """

    title: str
    crew: CrewName | None  # None: a `command` to run instead of a crew
    kind: str
    span: LineSpan | None = None
    diagnostic: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    command: str | None = None


def enclosing_symbol(symbols: Sequence[Symbol], line: int) -> Symbol | None:
    """The innermost code symbol containing 1-based `line`."""
    best: Symbol | None = None
    for sym in symbols:
        if (
            sym.kind in CODE_KINDS
            and sym.start_line <= line <= sym.end_line
            and (best is None or sym.end_line - sym.start_line < best.end_line - best.start_line)
        ):
            best = sym
    return best


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether an action of `kind` passes a client's `only` filter (prefix match)."""
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _kind(crew: CrewName) -> str:
    kind = CREW_BY_ID[crew].action_kind
    assert kind is not None, f"crew {crew} is not offered as an action"
    return kind


CONFIGURE_MODEL_TITLE = "llmgenie: Configure a model…"


def suggest_actions(ctx: ActionContext) -> list[SuggestedAction]:
    """The crews worth offering here, most specific first. With no model to run them (and
    no team server to delegate to), one action that sets a model up instead of a list of
    actions that would all fail."""
    if not ctx.model_configured and not ctx.team_server:
        return [
            SuggestedAction(
                CONFIGURE_MODEL_TITLE, None, "source.llmgenie", command=COMMAND_CONFIGURE_MODEL
            )
        ]
    sym = enclosing_symbol(ctx.symbols, ctx.cursor_line)
    span: LineSpan | None = None
    if ctx.has_selection:
        target = "the selection"
    elif sym is not None:
        target, span = f"`{sym.name}`", LineSpan(sym.start_line, sym.end_line)
    else:
        target = "this file"
    extra: dict[str, Any] = {"symbol": sym.qualified_name} if sym is not None else {}
    is_code = ctx.language is not None and ctx.language not in PROSE_LANGUAGES
    actions: list[SuggestedAction] = []

    def offer(title: str, crew: CrewName, **more: Any) -> None:
        actions.append(SuggestedAction(f"llmgenie: {title}", crew, _kind(crew), span, **more))

    for index, message in enumerate(list(ctx.diagnostics)[:MAX_FIXES]):
        first = message.strip().splitlines()[0] if message.strip() else "diagnostic"
        label = first if len(first) <= 60 else first[:57] + "..."
        actions.append(
            SuggestedAction(
                f"llmgenie: Fix: {label}",
                "fix",
                _kind("fix"),
                diagnostic=index,
                extra={**extra, "diagnostic": message},
            )
        )
    offer(f"Explain {target}", "explain", extra=extra)
    if is_code and (sym is not None or ctx.has_selection):
        offer(f"Document {target}", "document", extra=extra)
        offer(f"Refactor {target}", "refactor", extra=extra)
    is_test_file = bool(ctx.rel_path and is_test_path(ctx.rel_path))
    if is_code and sym is not None and sym.kind in TESTABLE_KINDS and not is_test_file:
        offer(f"Write tests for {target}", "tests", extra=extra)
    if is_code:
        offer(f"Security review of {target}", "security", extra=extra)
        offer(f"Performance review of {target}", "performance", extra=extra)
    if ctx.traits and not ctx.traits.get("has_dockerfile", True):
        actions.append(
            SuggestedAction(
                "llmgenie: Containerize the project (Dockerfile)",
                "devops",
                _kind("devops"),
                extra={"prompt": CONTAINERIZE_PROMPT},
            )
        )
    if ctx.traits and not ctx.traits.get("has_ci", True):
        actions.append(
            SuggestedAction(
                "llmgenie: Add CI (build and test on every push)",
                "devops",
                _kind("devops"),
                extra={"prompt": CI_PROMPT},
            )
        )
    offer(f"Ask the coordinator about {target}", "review", extra=extra)
    if ctx.team_server:
        # Heavy crews can leave the laptop: offer each once more, on the team server.
        for action in [a for a in actions if a.crew and CREW_BY_ID[a.crew].heavy]:
            actions.append(
                SuggestedAction(
                    f"{action.title} (team server)",
                    action.crew,
                    action.kind,
                    action.span,
                    action.diagnostic,
                    {**action.extra, "remote": True},
                )
            )
    return actions
