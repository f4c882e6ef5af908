"""The suggested-actions policy (app/actions.py) on its own: pure, no server, no disk."""

from __future__ import annotations

from llmgenie.app.actions import ActionContext, LineSpan, suggest_actions, wanted
from llmgenie.contracts.ids import CREW_BY_ID
from llmgenie.contracts.symbols import Symbol

CLASS = Symbol("Invoice", "Invoice", "class", "billing.py", 5, 20)
METHOD = Symbol("total", "Invoice.total", "method", "billing.py", 12, 14)
CONSTANT = Symbol("RATE", "RATE", "constant", "billing.py", 2, 2)


def _ctx(**over: object) -> ActionContext:
    base: dict[str, object] = {
        "rel_path": "billing.py",
        "language": "python",
        "cursor_line": 13,
        "has_selection": False,
        "symbols": [CLASS, METHOD, CONSTANT],
        "traits": {"has_dockerfile": True, "has_ci": True},
    }
    base.update(over)
    return ActionContext(**base)  # type: ignore[arg-type]


def test_the_innermost_symbol_is_the_target_with_its_lines() -> None:
    actions = suggest_actions(_ctx())
    titles = [a.title for a in actions]
    assert titles == [
        "llmgenie: Explain `total`",
        "llmgenie: Document `total`",
        "llmgenie: Refactor `total`",
        "llmgenie: Write tests for `total`",
        "llmgenie: Security review of `total`",
        "llmgenie: Performance review of `total`",
        "llmgenie: Ask the coordinator about `total`",
    ]
    assert {a.span for a in actions} == {LineSpan(12, 14)}
    assert all(a.extra["symbol"] == "Invoice.total" for a in actions)
    assert all(a.kind == CREW_BY_ID[a.crew].action_kind for a in actions)


def test_a_selection_is_the_target_as_the_user_drew_it() -> None:
    actions = suggest_actions(_ctx(has_selection=True))
    assert actions[0].title == "llmgenie: Explain the selection"
    assert all(a.span is None for a in actions)


def test_no_tests_offered_in_a_test_file_and_no_document_for_prose() -> None:
    in_tests = [a.crew for a in suggest_actions(_ctx(rel_path="tests/test_billing.py"))]
    assert "tests" not in in_tests and "document" in in_tests
    readme = [a.crew for a in suggest_actions(_ctx(language="markdown", symbols=[]))]
    assert readme == ["explain", "review"]


def test_devops_actions_only_when_the_project_lacks_them() -> None:
    bare = suggest_actions(_ctx(traits={"has_dockerfile": False, "has_ci": False}))
    prompts = [a.extra.get("prompt", "") for a in bare if a.crew == "devops"]
    assert len(prompts) == 2 and "Dockerfile" in prompts[0] and "CI" in prompts[1]
    assert not [a for a in suggest_actions(_ctx()) if a.crew == "devops"]


def test_one_fix_per_diagnostic_at_most_five_first() -> None:
    messages = [f"E{n}: undefined name 'x{n}'\nmore detail" for n in range(7)]
    actions = suggest_actions(_ctx(diagnostics=messages))
    fixes = [a for a in actions if a.crew == "fix"]
    assert [a.diagnostic for a in fixes] == [0, 1, 2, 3, 4]
    assert fixes[0].title == "llmgenie: Fix: E0: undefined name 'x0'"
    assert fixes[0].extra["diagnostic"] == messages[0]
    assert actions[: len(fixes)] == fixes


def test_only_filters_by_kind_prefix() -> None:
    assert wanted("source.llmgenie.security", ["source"])
    assert wanted("quickfix", None)
    assert not wanted("refactor.llmgenie.explain", ["source", "quickfix"])
    assert not wanted("sourcefoo", ["source"])
