"""Lifecycle against the real server process: capabilities, indexing progress, shutdown."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from llmgenie.engine import WorkspaceEngine
from tests.lsp.conftest import EditorClient, closed_cleanly, start_editor

COMMANDS = {
    "llmgenie.runCrew", "llmgenie.reindex", "llmgenie.pauseIndexing", "llmgenie.resumeIndexing",
    "llmgenie.configureModel",
}  # fmt: skip


async def test_initialize_advertises_what_the_server_supports(editor: EditorClient) -> None:
    result = editor.initialize_result
    caps = result.capabilities
    assert result.server_info.name == "llmgenie"
    sync = caps.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close and sync.save
    assert caps.code_action_provider.resolve_provider is True
    kinds = set(caps.code_action_provider.code_action_kinds)
    assert {"quickfix", "refactor", "source", "source.llmgenie"} <= kinds
    assert set(caps.execute_command_provider.commands) == COMMANDS
    folders = caps.workspace.workspace_folders
    assert folders.supported and folders.change_notifications


async def test_watched_files_are_registered_after_initialized(editor: EditorClient) -> None:
    await editor.wait_until(lambda: bool(editor.registrations), 10, "registerCapability")
    reg = editor.registrations[0]
    assert reg.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    watchers = reg.register_options["watchers"]
    assert watchers[0]["globPattern"] == "**/*"


async def test_background_indexing_reports_progress_then_search_works(
    editor: EditorClient,
) -> None:
    await editor.wait_indexed()

    def reported() -> list[object]:
        return [r for reports in editor.lsp.progress_reports.values() for r in reports]

    # The bar ends once the client has created it: wait for the end itself.
    await editor.wait_until(
        lambda: any(isinstance(r, types.WorkDoneProgressEnd) for r in reported()), 30, "end"
    )
    reports = reported()
    begins = [r for r in reports if isinstance(r, types.WorkDoneProgressBegin)]
    assert any("indexing" in b.title and b.cancellable for b in begins)
    middle = [r for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert any("files" in (r.message or "") and r.percentage is not None for r in middle)
    ends = [r for r in reports if isinstance(r, types.WorkDoneProgressEnd)]
    assert any("3 files" in (e.message or "") for e in ends), ends
    states = [s["indexing"]["state"] for s in editor.statuses]
    assert states[0] == "idle" and "indexing" in states and states[-1] == "idle"
    result = await editor.request("llmgenie/search", {"query": "compute_tax"})
    assert result["files"][0]["path"] == "billing.py"
    assert any(c["symbol"] == "compute_tax" for c in result["chunks"])


async def test_shutdown_leaves_a_clean_index(workspace: Path) -> None:
    async with start_editor(workspace) as editor:
        await editor.wait_indexed()
        server = editor.lsp._server
    assert server is not None and server.returncode == 0
    assert closed_cleanly(workspace)
    engine = WorkspaceEngine.open(workspace)
    try:
        health = engine.health()
        assert health.files == 3
        assert not any("rebuil" in d for d in health.degraded), health.degraded
        assert "compute_tax" in {s.name for s in engine.symbols("billing.py")}
    finally:
        engine.close()


async def test_initialization_options_override_settings(workspace: Path) -> None:
    options = {"model": "openai/scripted", "fallbacks": ["openai/backup"], "maxFileBytes": 4096}
    async with start_editor(workspace, options=options) as editor:
        health = await editor.request("llmgenie/health", {})
        assert health["model"] == {
            "configured": True,
            "model": "openai/scripted",
            "fallbacks": ["openai/backup"],
            "suggested": None,  # a model is configured: no Ollama model is offered
        }
        await editor.wait_until(lambda: bool(editor.statuses), 10, "a status")
        assert editor.statuses[-1]["model"]["configured"] is True


async def test_invalid_initialization_option_is_reported_not_fatal(workspace: Path) -> None:
    async with start_editor(workspace, options={"maxFileBytes": "huge", "bogus": 1}) as editor:
        await editor.wait_until(lambda: len(editor.lsp.messages) >= 2, 10, "warnings")
        texts = " ".join(m.message for m in editor.lsp.messages)
        assert "maxFileBytes" in texts and "bogus" in texts
        health = await editor.request("llmgenie/health", {})
        assert health["version"]


async def test_cancelling_the_indexing_progress_pauses_and_resume_finishes(workspace: Path) -> None:
    many = workspace / "generated"
    many.mkdir()
    for i in range(800):
        (many / f"mod_{i}.py").write_text(f"def function_{i}(x):\n    return x + {i}\n")
    async with start_editor(workspace) as editor:
        await editor.wait_until(
            lambda: any(
                isinstance(r, types.WorkDoneProgressBegin) and "indexing" in r.title
                for reports in editor.lsp.progress_reports.values()
                for r in reports
            ),
            30,
            "indexing progress to begin",
        )
        token = next(iter(editor.lsp.progress_reports))
        editor.lsp.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        await editor.wait_until(lambda: editor.statuses[-1]["indexing"]["state"] == "paused", 30)
        ends = [
            r
            for r in editor.lsp.progress_reports[token]
            if isinstance(r, types.WorkDoneProgressEnd)
        ]
        await editor.wait_until(
            lambda: any(
                isinstance(r, types.WorkDoneProgressEnd) for r in editor.lsp.progress_reports[token]
            ),
            30,
        )
        ends = [
            r
            for r in editor.lsp.progress_reports[token]
            if isinstance(r, types.WorkDoneProgressEnd)
        ]
        assert ends[-1].message == "paused"
        assert await editor.command("llmgenie.resumeIndexing") == {"paused": False}
        await editor.wait_until(lambda: editor.statuses[-1]["indexing"]["state"] == "idle", 120)
        health = await editor.request("llmgenie/health", {})
        assert health["index"]["files"] == 803
