"""Bad files never abort discovery or reading: each is skipped with a clear reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmgenie.config import IndexSettings
from llmgenie.context.parser import parse_document
from llmgenie.workspace.discovery import discover_files
from llmgenie.workspace.files import FileText, SkippedFile, read_workspace_file


def _reasons(root: Path, **kwargs: object) -> dict[str, str]:
    result = discover_files(root, **kwargs)  # type: ignore[arg-type]
    return {item.rel_path: item.reason for item in result.skipped}


def test_binary_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "blob.txt").write_bytes(b"header\x00\x01\x02" * 100)
    (tmp_path / "ok.py").write_text("x = 1\n")
    read = read_workspace_file(tmp_path / "blob.txt", rel_path="blob.txt")
    assert read == SkippedFile("blob.txt", "binary")
    found = discover_files(tmp_path, check_content=True)
    assert [f.rel_path for f in found.files] == ["ok.py"]
    assert found.skipped_counts() == {"binary": 1}


def test_two_mebibyte_file_is_too_large(tmp_path: Path) -> None:
    (tmp_path / "huge.py").write_bytes(b"x = 1\n" * (2 * 1024 * 1024 // 6 + 1))
    assert _reasons(tmp_path) == {"huge.py": "too_large"}
    read = read_workspace_file(tmp_path / "huge.py", rel_path="huge.py")
    assert isinstance(read, SkippedFile) and read.reason == "too_large"
    bigger_limit = discover_files(tmp_path, IndexSettings(max_file_bytes=4 * 1024 * 1024))
    assert [f.rel_path for f in bigger_limit.files] == ["huge.py"]


def test_minified_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "bundle.js").write_text("var a=1;" * 2000)
    read = read_workspace_file(tmp_path / "bundle.js", rel_path="bundle.js")
    assert read == SkippedFile("bundle.js", "minified")


def test_invalid_utf8_is_decoded_with_replacement_and_parses(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes("def caf\u00e9():\n    return '\u00e9'\n".encode("latin-1"))
    read = read_workspace_file(tmp_path / "latin.py", rel_path="latin.py")
    assert isinstance(read, FileText)
    assert read.decode_errors and "\ufffd" in read.text
    parsed = parse_document("latin.py", read.text)
    assert parsed.chunks and parsed.chunks[0].start_line == 1


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    read = read_workspace_file(tmp_path / "bom.py")
    assert isinstance(read, FileText) and read.text == "x = 1\n" and not read.decode_errors


def test_symlink_loops_and_escapes_do_not_stop_the_walk(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    os.symlink("..", root / "pkg" / "loop")  # a directory link to an ancestor
    os.symlink("self", root / "self")  # a link to itself: ELOOP
    os.symlink(outside, root / "escape.txt")  # a file outside the root
    os.symlink(tmp_path, root / "escape_dir")  # a directory outside the root
    os.symlink("pkg", root / "alias")  # a directory inside the root (indexed as pkg/)
    os.symlink("pkg/mod.py", root / "link.py")  # a file link inside the root: kept
    os.symlink("missing.py", root / "dangling.py")
    found = discover_files(root)
    assert [f.rel_path for f in found.files] == ["link.py", "pkg/mod.py"]
    assert {s.rel_path: s.reason for s in found.skipped} == {
        "pkg/loop": "symlink_loop",
        "self": "symlink_loop",
        "escape.txt": "outside_root",
        "escape_dir": "outside_root",
        "alias": "symlink_dir",
        "dangling.py": "unreadable",
    }


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert _reasons(tmp_path) == {"pipe.py": "unreadable"}
    read = read_workspace_file(tmp_path / "pipe.py", rel_path="pipe.py")
    assert read == SkippedFile("pipe.py", "unreadable", "not a regular file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their mode")
def test_unreadable_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "locked.py").write_text("x = 1\n")
    (tmp_path / "locked.py").chmod(0)
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "inner.py").write_text("x = 1\n")
    (tmp_path / "closed").chmod(0)
    try:
        read = read_workspace_file(tmp_path / "locked.py", rel_path="locked.py")
        assert isinstance(read, SkippedFile) and read.reason == "unreadable"
        assert _reasons(tmp_path)["closed"] == "unreadable"
    finally:
        (tmp_path / "closed").chmod(0o755)


def test_file_vanishing_between_walk_and_read_is_unreadable(tmp_path: Path) -> None:
    read = read_workspace_file(tmp_path / "gone.py", rel_path="gone.py")
    assert isinstance(read, SkippedFile) and read.reason == "unreadable"


def test_virtualenvs_and_junk_are_not_walked(tmp_path: Path) -> None:
    (tmp_path / "env" / "lib").mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "lib" / "site.py").write_text("x = 1\n")
    (tmp_path / "node_modules" / "left-pad").mkdir(parents=True)
    (tmp_path / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    assert [f.rel_path for f in discover_files(tmp_path).files] == ["app.py"]
    kept = {f.rel_path for f in discover_files(tmp_path, builtin_ignores=False).files}
    assert kept == {"app.py", "node_modules/left-pad/index.js"}
