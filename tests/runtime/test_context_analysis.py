"""Context analysis gathers the right context from a real engine, redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.contracts.errors import PathEscapeError
from llmgenie.contracts.runs import LineRange, RunRequest
from llmgenie.engine import WorkspaceEngine
from llmgenie.redaction import Redactor
from llmgenie.wrapper.context_analysis import analyze_context


def test_file_selection_symbol_guidance_and_traits(
    engine: WorkspaceEngine, workspace: Path
) -> None:
    request = RunRequest(
        crew="explain",
        workspace=str(workspace),
        path=str(workspace / "app.py"),  # absolute inside the workspace is fine
        range=LineRange(start_line=14, end_line=17),
        prompt="why a loop?",
    )
    ctx, summary = analyze_context(request, engine, Redactor())
    assert ctx.request.path == "app.py"
    assert ctx.language == "python"
    assert ctx.enclosing_symbol is not None and ctx.enclosing_symbol.endswith("total")
    assert ctx.selection_text.startswith("    s = 0")
    assert "Pg!s3cr3t" not in ctx.file_text and "«REDACTED:" in ctx.file_text
    sources = [g.splitlines()[0] for g in ctx.guidance]
    assert "[.cursorrules]" in sources
    assert "[.cursor/rules/tests.mdc]" not in sources, "its globs (tests/**) do not match app.py"
    assert "[README.md]" in sources
    assert ctx.workspace_traits["has_dockerfile"] and ctx.workspace_traits["has_cursor_rules"]
    assert not ctx.workspace_traits["has_ci"]
    assert "app.py" in ctx.repo_map
    assert summary["language"] == "python"


def test_escaping_path_is_refused(engine: WorkspaceEngine, workspace: Path) -> None:
    request = RunRequest(crew="explain", workspace=str(workspace), path="../../etc/passwd")
    with pytest.raises(PathEscapeError):
        analyze_context(request, engine, Redactor())


def test_missing_file_is_a_clear_error(engine: WorkspaceEngine, workspace: Path) -> None:
    request = RunRequest(crew="explain", workspace=str(workspace), path="nope.py")
    with pytest.raises(FileNotFoundError, match=r"no such file in the workspace: nope\.py"):
        analyze_context(request, engine, Redactor())
