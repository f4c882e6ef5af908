"""Paths a model writes: a leading slash on a workspace path is read as workspace-relative
when that file exists (small models do it); anything outside the root stays refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.config import load_settings
from llmgenie.contracts.errors import PathEscapeError
from llmgenie.engine import WorkspaceEngine


@pytest.fixture
def view(tmp_path: Path) -> Iterator[WorkspaceView]:
    root = tmp_path / "ws"
    (root / "inventory").mkdir(parents=True)
    (root / "inventory" / "storage.py").write_text("def reserve(sku, n):\n    return n\n")
    engine = WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "none"}))
    try:
        yield WorkspaceView(root.resolve(), engine)
    finally:
        engine.close()


def test_a_leading_slash_names_the_workspace_file(view: WorkspaceView) -> None:
    assert view.rel("/inventory/storage.py") == "inventory/storage.py"
    assert view.rel(str(view.root / "inventory" / "storage.py")) == "inventory/storage.py"


def test_paths_outside_stay_refused(view: WorkspaceView) -> None:
    for path in ("/etc/passwd", "/../etc/passwd", "../outside.py"):
        with pytest.raises(PathEscapeError):
            view.rel(path)
