"""resolve_inside refuses every way out of the workspace; to_rel gives posix paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmgenie.contracts.errors import PathEscapeError
from llmgenie.workspace.files import resolve_inside, to_rel


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", ws / "out_link")
    os.symlink(ws / "src", ws / "in_link")
    return ws


@pytest.mark.parametrize(
    "hostile",
    [
        "../secret",
        "src/../../secret",
        "/etc/passwd",
        "C:\\Windows\\system.ini",
        "c:/x",
        "..\\..\\etc\\passwd",
        "src/app.py\x00.txt",
        "out_link/file.txt",
        "out_link",
        "./../ws/../..",
    ],
)
def test_hostile_paths_are_refused(root: Path, hostile: str) -> None:
    with pytest.raises(PathEscapeError):
        resolve_inside(root, hostile)


@pytest.mark.parametrize(
    ("given_path", "expected"),
    [
        ("src/app.py", "src/app.py"),
        ("./src/./app.py", "src/app.py"),
        ("src/../src/app.py", "src/app.py"),
        ("src\\app.py", "src/app.py"),
        ("new/dir/file.py", "new/dir/file.py"),
        ("in_link/app.py", "src/app.py"),
        (".", ""),
    ],
)
def test_safe_paths_resolve_inside(root: Path, given_path: str, expected: str) -> None:
    resolved = resolve_inside(root, given_path)
    assert to_rel(root, resolved) == expected
    real_root = Path(os.path.realpath(root))
    assert resolved == real_root or resolved.is_relative_to(real_root)


def test_absolute_paths_inside_root_need_opt_in(root: Path) -> None:
    inside = str(root / "src" / "app.py")
    with pytest.raises(PathEscapeError):
        resolve_inside(root, inside)
    assert to_rel(root, resolve_inside(root, inside, allow_absolute=True)) == "src/app.py"
    with pytest.raises(PathEscapeError):
        resolve_inside(root, str(root.parent / "outside"), allow_absolute=True)


def test_to_rel_refuses_outside(root: Path) -> None:
    assert to_rel(root, "src/app.py") == "src/app.py"
    assert to_rel(root, root / "src") == "src"
    with pytest.raises(PathEscapeError):
        to_rel(root, root.parent / "outside")


@given(st.lists(st.sampled_from(["..", ".", "a", "b", "", "src", "\\", "/"]), max_size=8))
def test_any_resolved_path_stays_inside(parts: list[str]) -> None:
    # No filesystem needed: a fresh directory per example would be slow, and the lexical
    # part of the check is what varies here.
    base = Path(os.path.realpath("/tmp")) / "llmgenie-resolve-root"
    text = "/".join(parts)
    try:
        resolved = resolve_inside(base, text)
    except PathEscapeError:
        return
    assert resolved == base or resolved.is_relative_to(base)
