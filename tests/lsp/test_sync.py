"""The index follows the editor: unsaved buffers, closes, watched files, folder changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.lsp.conftest import EditorClient, start_editor


async def _hits(editor: EditorClient, query: str) -> set[str]:
    """Files with a chunk whose symbol is exactly `query` (the identifier being looked for).

    File-level hits alone are not evidence: ranking signals other than the text (graph,
    priors) can list every file of a tiny workspace for any query.
    """
    result = await editor.request("llmgenie/search", {"query": query, "k": 10})
    return {hit["path"] for hit in result["chunks"] if hit["symbol"] == query}


async def test_unsaved_edit_is_searchable_before_save(editor: EditorClient) -> None:
    await editor.wait_indexed()
    uri = editor.open("billing.py")
    assert "billing.py" not in await _hits(editor, "reconcile_ledger_entries")
    editor.change(uri, "def reconcile_ledger_entries(ledger):\n    return ledger\n\n\n")
    # No save, no debounce wait: search flushes pending buffer changes first.
    assert "billing.py" in await _hits(editor, "reconcile_ledger_entries")
    assert "reconcile_ledger_entries" not in (editor.root / "billing.py").read_text()


async def test_closing_a_buffer_reverts_the_index_to_disk(editor: EditorClient) -> None:
    await editor.wait_indexed()
    uri = editor.open("billing.py")
    editor.change(uri, "def scratch_experiment_xyz():\n    pass\n\n")
    assert "billing.py" in await _hits(editor, "scratch_experiment_xyz")
    editor.lsp.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    deadline = asyncio.get_running_loop().time() + 10
    while "billing.py" in await _hits(editor, "scratch_experiment_xyz"):
        assert asyncio.get_running_loop().time() < deadline, "closed buffer still indexed"
        await asyncio.sleep(0.1)


async def test_debounced_changes_reach_the_index_without_a_request(workspace: Path) -> None:
    """Typing then pausing updates the index by itself (checked via symbols in code actions,
    which a session with a model offers per symbol)."""
    async with start_editor(workspace, options={"model": "openai/scripted-model"}) as editor:
        await editor.wait_indexed()
        uri = editor.open("billing.py")
        editor.change(uri, "def freshly_typed_function():\n    return 1\n\n\n")
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(1, 4), end=types.Position(1, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
        deadline = asyncio.get_running_loop().time() + 30
        while True:  # the debounced parse lands by itself: no request asked for it
            actions = await editor.lsp.text_document_code_action_async(params)
            titles = [a.title for a in actions]
            if any("freshly_typed_function" in t for t in titles):
                break
            assert asyncio.get_running_loop().time() < deadline, titles
            await asyncio.sleep(0.1)


async def test_watched_file_events_add_and_remove_files(editor: EditorClient) -> None:
    await editor.wait_indexed()
    new = editor.root / "shipping.py"
    new.write_text("def calculate_shipping_quote(weight):\n    return weight * 3\n")
    editor.lsp.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    await editor.search_until("calculate_shipping_quote", "shipping.py")
    new.unlink()
    editor.lsp.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )
    deadline = asyncio.get_running_loop().time() + 10
    while "shipping.py" in await _hits(editor, "calculate_shipping_quote"):
        assert asyncio.get_running_loop().time() < deadline, "deleted file still indexed"
        await asyncio.sleep(0.1)


async def test_added_workspace_folder_is_indexed(editor: EditorClient, tmp_path: Path) -> None:
    await editor.wait_indexed()
    other = tmp_path / "other"
    other.mkdir()
    (other / "inventory.py").write_text("def restock_warehouse_bins(n):\n    return n\n")
    editor.lsp.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=other.as_uri(), name="other")], removed=[]
            )
        )
    )
    inv_uri = (other / "inventory.py").as_uri()
    before = len(editor.statuses)
    await editor.wait_until(
        lambda: (
            any(s["indexing"]["state"] == "indexing" for s in editor.statuses[before:])
            and editor.statuses[-1]["indexing"]["state"] == "idle"
        ),
        60,
        "the added folder to be indexed",
    )
    result = await editor.request(
        "llmgenie/search", {"query": "restock_warehouse_bins", "focus": inv_uri}
    )
    assert result["files"][0]["uri"] == inv_uri
    assert result["files"][0]["path"] == "inventory.py"
    health = await editor.request("llmgenie/health", {})
    assert len(health["folders"]) == 2
