"""Unlucky workspaces and indexes through the real CLI: a file name that is not UTF-8, a
corrupt or read-only index, bad configuration. Each is one clear line, never a traceback,
and `llmgenie index --rebuild` recovers a corrupt index."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.locations import locations_for
from tests.cli.test_engine_commands import run_cli


def _workspace(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "billing.py").write_text("def compute_tax(amount):\n    return amount\n")
    (root / "app" / "login.py").write_text("def verify_password(user):\n    return True\n")
    return root


def _clean_failure(proc: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert text in proc.stderr, proc.stderr


def test_a_file_name_that_is_not_utf8_is_skipped_and_the_rest_indexed(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    raw = os.fsencode(root)
    with open(raw + b"/app/bad\xff\xfename.py", "wb") as out:
        out.write(b"def compute_tax_bad():\n    return 0\n")
    os.mkdir(raw + b"/dir\xff")
    with open(raw + b"/dir\xff/inner.py", "wb") as out:
        out.write(b"def inner():\n    return 1\n")
    indexed = run_cli("index", str(root), "--json")
    assert indexed.returncode == 0, indexed.stderr
    summary = json.loads(indexed.stdout)
    assert summary["files"] == 2
    assert summary["skipped"] == {"undecodable_name": 2}
    found = run_cli("search", str(root), "compute tax", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["files"][0]["path"] == "app/billing.py"


def _catalog(root: Path) -> Path:
    return locations_for(root, load_settings(root)).index_dir / "catalog.sqlite3"


def test_a_corrupt_index_is_one_clear_message_and_rebuild_recovers(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    assert run_cli("index", str(root)).returncode == 0
    catalog = _catalog(root)
    # Overwrite the pages of the search tables only: the catalog still opens (schema and
    # meta pages intact, last close was clean), then the search hits the damage.
    with sqlite3.connect(catalog) as conn:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = [
            int(r[0])
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name IN ('chunks', 'chunks_fts_data', 'files')"
            )
        ]
    noise = random.Random(7)
    with catalog.open("r+b") as db:
        for page in pages:
            db.seek((page - 1) * page_size)
            db.write(noise.randbytes(page_size))
    (root / "app" / "billing.py").write_text("def compute_tax(amount):\n    return 2\n")
    broken = run_cli("search", str(root), "compute tax", "--json")
    _clean_failure(broken, 1, f"rebuild it with: llmgenie index --rebuild {root}")
    assert "is corrupt or read-only" in broken.stderr and broken.stdout == ""
    rebuilt = run_cli("index", "--rebuild", str(root))
    assert rebuilt.returncode == 0, rebuilt.stderr
    found = run_cli("search", str(root), "compute tax", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["files"][0]["path"] == "app/billing.py"


@contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """Make `directory` unwritable even for root (immutable), else by its mode."""
    chattr = shutil.which("chattr")
    if os.geteuid() == 0:
        if chattr is None or subprocess.run([chattr, "+i", str(directory)]).returncode != 0:
            pytest.skip("root cannot make a directory read-only here")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(directory)], check=True)
        return
    directory.chmod(0o555)
    try:
        yield
    finally:
        directory.chmod(0o755)


def test_a_read_only_index_directory_is_one_clear_message(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    assert run_cli("index", str(root)).returncode == 0
    catalog = _catalog(root)
    for suffix in ("-wal", "-shm"):
        Path(str(catalog) + suffix).unlink(missing_ok=True)
    (root / "app" / "login.py").write_text("def verify_password(user):\n    return False\n")
    with _read_only(catalog.parent):
        proc = run_cli("search", str(root), "verify password", "--json")
    _clean_failure(proc, 1, f"the index at {catalog.parent} is")
    assert "llmgenie index --rebuild" in proc.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LLMGENIE_LLM", "{not json"),
        ("LLMGENIE_INDEX", "[1]"),
        ("LLMGENIE_INDEX__MAX_FILE_BYTES", "lots"),
        ("LLMGENIE_LLM__FALLBACKS", "a,b"),
        ("LLMGENIE_LOG_LEVEL", "LOUD"),
    ],
)
def test_every_config_error_is_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    root = _workspace(tmp_path / "ws")
    monkeypatch.setenv(variable, value)
    for command in (("index", str(root)), ("search", str(root), "tax"), ("audit", "verify")):
        proc = run_cli(*command, cwd=root)
        _clean_failure(proc, 2, "error: invalid")
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[permissions]\ntrusted = "no"\n', "permissions.trusted must be true or false"),
        ('log_level = "LOUD"\n', "log_level"),
    ],
)
def test_a_bad_value_in_the_workspace_file_is_one_clear_message(
    tmp_path: Path, toml: str, key: str
) -> None:
    root = _workspace(tmp_path / "ws")
    (root / "llmgenie.toml").write_text(toml)
    for command in (("index", str(root)), ("search", str(root), "tax")):
        proc = run_cli(*command, cwd=root)
        _clean_failure(proc, 2, key)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
