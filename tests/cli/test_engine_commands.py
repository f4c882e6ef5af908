"""`llmgenie index | search | map | doctor` through a real subprocess: the JSON contract
other tools and benchmarks rely on, stdout kept clean, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FILES = {
    "app/billing/invoice.py": """
        class InvoiceCalculator:
            def compute_tax_total(self, lines):
                return sum(lines) * 1.2
    """,
    "app/auth/login.py": '''
        def verify_password(user, password):
            """Check a password against the stored hash."""
            return user.password_hash == hash(password)
    ''',
    "web/src/retry.ts": """
        export function fetchWithBackoff(url: string): Promise<Response> {
          return fetch(url);
        }
    """,
    "README.md": "# Demo\n\n## Billing\n\nInvoices and taxes.\n",
}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["LLMGENIE_INDEX__EMBEDDINGS"] = "none"
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def test_search_json_contract_and_indexes_on_first_use(workspace: Path) -> None:
    proc = run_cli(
        "search", str(workspace), "compute tax total for an invoice", "-k", "3", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON object on stdout
    assert proc.stdout.strip().count("\n") == 0
    assert data["query"] == "compute tax total for an invoice"
    assert 1 <= len(data["files"]) <= 3 and 1 <= len(data["chunks"]) <= 3
    for f in data["files"]:
        assert set(f) >= {"path", "score"} and isinstance(f["score"], float)
    for c in data["chunks"]:
        assert set(c) >= {"path", "start_line", "end_line", "symbol", "score"}
        assert isinstance(c["start_line"], int) and c["start_line"] <= c["end_line"]
        assert "text" not in c
    assert data["files"][0]["path"] == "app/billing/invoice.py"
    scores = [f["score"] for f in data["files"]]
    assert scores == sorted(scores, reverse=True)
    assert data["chunks"][0]["path"] == "app/billing/invoice.py"


def test_search_paths_are_relative_with_forward_slashes(workspace: Path) -> None:
    proc = run_cli("search", str(workspace), "fetchWithBackoff", "--json", "--no-reasons")
    data = json.loads(proc.stdout)
    assert data["files"][0]["path"] == "web/src/retry.ts"
    assert all("reasons" not in f for f in data["files"])
    assert all(not f["path"].startswith("/") and "\\" not in f["path"] for f in data["files"])


def test_search_table_output_is_readable(workspace: Path) -> None:
    proc = run_cli("search", str(workspace), "verify password")
    assert proc.returncode == 0, proc.stderr
    assert "app/auth/login.py" in proc.stdout


def test_index_summary_and_json(workspace: Path) -> None:
    proc = run_cli("index", str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert "4 files" in proc.stdout and "symbols" in proc.stdout and "chunks" in proc.stdout
    assert "embeddings:" in proc.stdout
    proc = run_cli("index", str(workspace), "--json")
    data = json.loads(proc.stdout)
    assert data["files"] == 4 and data["indexed"] == 0 and data["symbols"] >= 3
    assert "disabled" in data["embedding_status"]


def test_map_prints_outline_within_budget(workspace: Path) -> None:
    proc = run_cli("map", str(workspace), "--focus", "app/billing/invoice.py", "--tokens", "60")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("app/billing/invoice.py")
    assert "compute_tax_total" in proc.stdout
    assert len(proc.stdout) <= 60 * 4 + 40


def test_doctor_reports_health_as_json(workspace: Path) -> None:
    run_cli("index", str(workspace))
    proc = run_cli("doctor", str(workspace), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["files"] == 4 and data["chunks"] >= 4 and data["stale_files"] == []
    assert data["embedding_provider"] is None
    assert any("dense retrieval off" in d for d in data["degraded"])
    text = run_cli("doctor", str(workspace)).stdout
    assert "stale files: 0" in text and "degraded:" in text


def test_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "llmgenie.toml").write_text("[index]\nmax_file_bytes = -5\n", encoding="utf-8")
    proc = run_cli("search", str(tmp_path), "anything", "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "index.max_file_bytes" in " ".join(proc.stderr.split())


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_cli("index", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "is not a directory" in " ".join(proc.stderr.split())


def test_search_sees_disk_changes_without_an_explicit_index(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("def first_handler():\n    pass\n", encoding="utf-8")
    assert json.loads(run_cli("search", str(tmp_path), "first_handler", "--json").stdout)["files"]
    (tmp_path / "two.py").write_text("def second_handler():\n    pass\n", encoding="utf-8")
    (tmp_path / "one.py").unlink()
    data = json.loads(run_cli("search", str(tmp_path), "second_handler", "--json").stdout)
    assert data["files"][0]["path"] == "two.py"
    assert all(f["path"] != "one.py" for f in data["files"])
