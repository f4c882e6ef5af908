"""Discovery basics: ignore files, built-in junk, size/binary/minified skips, sorted output."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.config import IndexSettings
from llmgenie.workspace.discovery import discover_files


def _write(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def test_discovery_honours_nested_ignores_and_skips(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "*.log\nbuild/\n")
    _write(tmp_path, "src/.gitignore", "!keep.log\ngen_*.py\n")
    _write(tmp_path, ".llmgenieignore", "docs/private/\n")
    _write(tmp_path, ".git/info/exclude", "local.txt\n")
    _write(tmp_path, "src/app.py", "print('hi')\n")
    _write(tmp_path, "src/keep.log", "kept\n")
    _write(tmp_path, "src/gen_x.py", "x = 1\n")
    _write(tmp_path, "app.log", "no\n")
    _write(tmp_path, "build/out.py", "no\n")
    _write(tmp_path, "docs/private/a.md", "# no\n")
    _write(tmp_path, "docs/public.md", "# yes\n")
    _write(tmp_path, "local.txt", "no\n")
    _write(tmp_path, "node_modules/x/index.js", "no\n")
    _write(tmp_path, "big.txt", "x" * 2000)
    _write(tmp_path, "logo.png", b"\x89PNG\r\n")
    _write(tmp_path, "vendor/lib.min.js", "var a=1;")
    _write(tmp_path, "data.bin.txt", b"abc\x00def")
    result = discover_files(tmp_path, IndexSettings(max_file_bytes=1000, ignore=["*.txt"]))
    kept = [f.rel_path for f in result.files]
    assert kept == [
        ".gitignore",
        ".llmgenieignore",
        "docs/public.md",
        "src/.gitignore",
        "src/app.py",
        "src/keep.log",
    ]
    reasons = {s.rel_path: s.reason for s in result.skipped}
    assert reasons["logo.png"] == "binary"
    assert reasons["vendor/lib.min.js"] == "minified"


def test_global_git_excludes_apply_unless_builtins_are_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "git").mkdir(parents=True)
    (config / "git" / "ignore").write_text(".idea/\n*.swp\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    root = tmp_path / "ws"
    _write(root, ".idea/workspace.xml", "<x/>")
    _write(root, "a.py.swp", "junk")
    _write(root, "a.py", "x = 1\n")
    _write(root, ".gitignore", "!a.py.swp\n")
    assert [f.rel_path for f in discover_files(root).files] == [".gitignore", "a.py", "a.py.swp"]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nowhere"))
    kept = [f.rel_path for f in discover_files(root).files]
    assert kept == [".gitignore", ".idea/workspace.xml", "a.py", "a.py.swp"]
