"""Code actions: context-aware list from parsed context, lazy resolve to llmgenie.runCrew."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.conftest import EditorClient, start_editor

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _params(
    uri: str,
    line: int,
    char: int = 4,
    diagnostics: list[types.Diagnostic] | None = None,
    only: list[str] | None = None,
    end: tuple[int, int] | None = None,
) -> types.CodeActionParams:
    end_pos = types.Position(*end) if end else types.Position(line, char)
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, char), end=end_pos),
        context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
    )


@pytest.fixture(scope="module")
def model_env() -> dict[str, str]:
    """A model is configured, so the crews are offered (no test here calls it)."""
    return {"LLMGENIE_LLM__MODEL": "openai/scripted-model"}


async def _actions(
    shared_editor: EditorClient, params: types.CodeActionParams
) -> list[types.CodeAction]:
    result = await shared_editor.lsp.text_document_code_action_async(params)
    assert result is not None
    return [a for a in result if isinstance(a, types.CodeAction)]


async def test_python_function_gets_the_full_crew(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    uri = shared_editor.open("billing.py")
    # Line 17 (0-based 16) is inside compute_tax.
    actions = await _actions(shared_editor, _params(uri, 16))
    titles = [a.title for a in actions]
    for expected in (
        "llmgenie: Explain `compute_tax`",
        "llmgenie: Document `compute_tax`",
        "llmgenie: Write tests for `compute_tax`",
        "llmgenie: Refactor `compute_tax`",
        "llmgenie: Security review of `compute_tax`",
        "llmgenie: Performance review of `compute_tax`",
        "llmgenie: Containerize the project (Dockerfile)",
        "llmgenie: Ask the coordinator about `compute_tax`",
    ):
        assert expected in titles, titles
    explain = next(a for a in actions if a.title.startswith("llmgenie: Explain"))
    assert explain.command is None, "the command is attached lazily by resolve"
    assert explain.data["crew"] == "explain"
    assert explain.data["uri"] == uri
    # The action targets the whole function (0-based lines 15..17).
    assert explain.data["range"]["start"]["line"] == 15
    assert explain.data["symbol"] == "compute_tax"


async def test_method_inside_class_is_the_target(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    uri = shared_editor.open("billing.py")
    actions = await _actions(shared_editor, _params(uri, 12, 8))  # inside Invoice.total
    assert any(a.title == "llmgenie: Explain `total`" for a in actions)
    assert next(a for a in actions if "Explain" in a.title).data["symbol"].endswith("total")


async def test_typescript_function_and_selection(shared_editor: EditorClient) -> None:
    await shared_editor.wait_indexed()
    uri = shared_editor.open("web/client.ts", language="typescript")
    titles = [a.title for a in await _actions(shared_editor, _params(uri, 6, 10))]
    assert "llmgenie: Explain `fetchUser`" in titles
    assert "llmgenie: Write tests for `fetchUser`" in titles
    selection = await _actions(shared_editor, _params(uri, 11, 0, end=(15, 3)))
    titles = [a.title for a in selection]
    assert "llmgenie: Refactor the selection" in titles
    refactor = next(a for a in selection if a.title == "llmgenie: Refactor the selection")
    assert refactor.data["range"]["start"] == {"line": 11, "character": 0}
    assert refactor.data["range"]["end"] == {"line": 15, "character": 3}


async def test_each_diagnostic_gets_a_quickfix(shared_editor: EditorClient) -> None:
    uri = shared_editor.open("billing.py")
    diag = types.Diagnostic(
        range=types.Range(start=types.Position(16, 11), end=types.Position(16, 20)),
        message="Name 'amount' may be undefined",
        source="pyright",
    )
    actions = await _actions(shared_editor, _params(uri, 16, diagnostics=[diag]))
    fix = actions[0]
    assert fix.title == "llmgenie: Fix: Name 'amount' may be undefined"
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.diagnostics and fix.diagnostics[0].message == diag.message
    assert fix.data["crew"] == "fix" and fix.data["diagnostic"] == diag.message
    only_fixes = await _actions(
        shared_editor, _params(uri, 16, diagnostics=[diag], only=["quickfix"])
    )
    assert [a.kind for a in only_fixes] == [types.CodeActionKind.QuickFix]


async def test_resolve_attaches_run_crew_command(shared_editor: EditorClient) -> None:
    uri = shared_editor.open("billing.py")
    actions = await _actions(shared_editor, _params(uri, 16))
    resolved = await shared_editor.lsp.code_action_resolve_async(actions[0])
    assert resolved.command is not None
    assert resolved.command.command == "llmgenie.runCrew"
    assert list(resolved.command.arguments) == [actions[0].data]


async def test_devops_actions_only_when_the_project_lacks_them(workspace: Path) -> None:
    (workspace / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_billing.py").write_text("def test_tax():\n    assert True\n")
    async with start_editor(workspace, options={"model": "openai/scripted-model"}) as editor:
        await editor.wait_indexed()
        uri = editor.open("tests/test_billing.py")
        titles = [a.title for a in await _actions(editor, _params(uri, 1))]
        assert not any("Containerize" in t or "Add CI" in t for t in titles), titles
        assert not any("Write tests" in t for t in titles), "no tests for a test file"
        assert "llmgenie: Explain `test_tax`" in titles


async def test_plain_text_file_gets_only_generic_actions(shared_editor: EditorClient) -> None:
    (shared_editor.root / "notes.txt").write_text("remember the milk\n")
    uri = shared_editor.open("notes.txt", language="plaintext")
    titles = [a.title for a in await _actions(shared_editor, _params(uri, 0, 0))]
    assert "llmgenie: Explain this file" in titles
    assert not any("Security review" in t for t in titles)


async def test_without_a_model_one_action_configures_one(workspace: Path) -> None:
    async with start_editor(workspace) as editor:
        await editor.wait_indexed()
        uri = editor.open("billing.py")
        result = await editor.lsp.text_document_code_action_async(_params(uri, 16))
        assert result is not None and [a.title for a in result] == ["llmgenie: Configure a model…"]
        [configure] = result
        # A CodeAction carrying its command (pytest-lsp's converter reads the pair as a
        # Command whose `command` is the nested object, printed): the id is in there.
        assert "'command': 'llmgenie.configureModel'" in str(configure), configure
        setup = await editor.command("llmgenie.configureModel", {})
        assert setup["configured"] is False and "llm.model" in setup["message"]
        await editor.wait_until(
            lambda: any("No model configured" in m.message for m in editor.lsp.messages),
            10,
            "the how-to message",
        )


async def test_a_document_just_opened_offers_its_symbol_actions_at_once(workspace: Path) -> None:
    """The first code-action request, straight after initialize and didOpen, sees the buffer's
    functions: no waiting for the background index to open or for the debounced parse."""
    text = "def settle_refund(order):\n    return order.total\n"
    async with start_editor(workspace, options={"model": "openai/scripted-model"}) as editor:
        uri = editor.open("refunds_new.py", text=text)
        titles = [a.title for a in await _actions(editor, _params(uri, 1))]
        assert "llmgenie: Document `settle_refund`" in titles, titles
        assert "llmgenie: Write tests for `settle_refund`" in titles, titles
