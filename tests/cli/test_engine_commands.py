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
    health = data["health"]
    assert health["files"] == 4 and health["chunks"] >= 4 and health["stale_files"] == []
    assert health["embedding_provider"] is None and data["index_exists"] is True
    assert any("dense retrieval off" in d for d in data["degraded"])
    text = run_cli("doctor", str(workspace)).stdout
    assert "stale files: 0" in text and "degraded:" in text


def test_doctor_reports_the_whole_setup_and_creates_nothing(tmp_path: Path) -> None:
    root, cache = tmp_path / "somewhere", tmp_path / "cache"
    root.mkdir()
    (root / "llmgenie.toml").write_text('[llm]\nfallbacks = ["ollama/qwen2.5-coder"]\n')
    env = {
        **os.environ,
        "LLMGENIE_INDEX__CACHE_DIR": str(cache),
        "LLMGENIE_DATA_DIR": str(tmp_path / "data"),
        "LLMGENIE_LLM__MODEL": "anthropic/claude-sonnet-4",
    }
    for name in ("ANTHROPIC_API_KEY", "LLMGENIE_LLM__API_KEY", "LLMGENIE_LLM__API_BASE"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "llmgenie", "doctor", str(root), "--json"],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["python"] and data["llmgenie"] and data["index_exists"] is False
    sources = {s["key"]: s["source"] for s in data["settings"]}
    assert sources["llm.model"] == "env LLMGENIE_LLM__MODEL"
    assert sources["index.embeddings"] == "default"
    models = {m["model"]: m for m in data["models"]}
    assert models["anthropic/claude-sonnet-4"]["ok"] is False
    assert "ANTHROPIC_API_KEY" in models["anthropic/claude-sonnet-4"]["key"]
    assert any("not indexed yet" in d for d in data["degraded"])
    assert not cache.exists() and not (tmp_path / "data").exists(), "doctor created nothing"
    assert sorted(p.name for p in root.iterdir()) == ["llmgenie.toml"]


def test_version_search_without_a_path_map_json(workspace: Path) -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("llmgenie ")
    here = run_cli("search", "compute tax total", "--json", cwd=workspace)
    assert here.returncode == 0, here.stderr
    assert json.loads(here.stdout)["files"][0]["path"].endswith("invoice.py")
    outline = run_cli("map", str(workspace), "--json", "--focus", "app/billing/invoice.py")
    assert outline.returncode == 0, outline.stderr
    data = json.loads(outline.stdout)
    assert data["root"] == str(workspace.resolve()) and "compute_tax_total" in data["map"]


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


def test_run_errors_are_short_and_honest(workspace: Path, tmp_path: Path) -> None:
    missing = run_cli("run", "explain", str(workspace), "--file", "nothere.py")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    env = {
        **os.environ,
        "LLMGENIE_LLM__MODEL": "openai/gpt-4o-mini",
        "LLMGENIE_LLM__API_BASE": "http://127.0.0.1:9/v1",  # nothing listens on port 9
        "LLMGENIE_LLM__API_KEY": "sk-test-unreachable",
        "LLMGENIE_DATA_DIR": str(tmp_path / "data"),
        "LLMGENIE_INDEX__EMBEDDINGS": "none",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    offline = subprocess.run(
        [sys.executable, "-m", "llmgenie", "run", "explain", str(workspace), "-q",
         "--file", "app/billing/invoice.py"],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert offline.returncode == 1, offline.stderr
    said = " ".join(offline.stderr.split())
    assert "cannot reach the model's server" in said, said
    assert "HTTP 500" not in said and "Error executing listener" not in said
    assert '"event"' not in said, "no log lines mixed into what the user reads"
