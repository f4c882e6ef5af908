"""`llmgenie localize TEXT` through a real subprocess: the configured (scripted) model's
ranked functions as JSON, the readable listing, and the search ranking with a note when
no model is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.model_server import ModelServer, Reply

FILES = {
    "app/billing/invoice.py": """
        class InvoiceCalculator:
            def compute_tax_total(self, lines):
                return sum(lines) * 1.2

            def discount(self, total, percent):
                return total - total * percent / 100
    """,
    "app/auth/login.py": '''
        def verify_password(user, password):
            """Check a password against the stored hash."""
            return user.password_hash == hash(password)
    ''',
    "README.md": "# Demo\n\n## Billing\n\nInvoices and taxes.\n",
}
ISSUE = "A 10 percent discount on an invoice subtracts 100 percent instead."


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLMGENIE_INDEX__EMBEDDINGS": "none"}
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=180,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def test_localize_json_has_the_model_ranked_function_first(
    workspace: Path, scripted_llm_env: ModelServer
) -> None:
    scripted_llm_env.script(
        Reply.tool_call("list_symbols", {"path": "app/billing/invoice.py"}),
        Reply.plain(
            json.dumps(
                {
                    "locations": [
                        {
                            "path": "app/billing/invoice.py",
                            "symbol": "InvoiceCalculator.discount",
                            "reason": "computes the discount",
                        },
                        {"path": "app/billing/tax.py", "reason": "does not exist"},
                    ]
                }
            )
        ),
    )
    proc = run_cli("localize", ISSUE, "--path", str(workspace), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["source"] == "model"
    first = result["hits"][0]
    assert first["path"] == "app/billing/invoice.py"
    assert first["symbol"] == "InvoiceCalculator.discount"
    assert (first["start_line"], first["end_line"]) == (5, 6)
    assert first["reasons"][0]["detail"] == "computes the discount"
    assert [d["item"]["path"] for d in result["dropped"]] == ["app/billing/tax.py"]
    assert result["tool_calls"][0]["name"] == "list_symbols"
    sent = scripted_llm_env.all_sent_text()
    assert ISSUE in sent and "def discount" in sent  # the tool output went to the model


def test_localize_reads_stdin_and_prints_a_listing_without_a_model(workspace: Path) -> None:
    proc = run_cli("localize", "-", "--path", str(workspace), stdin="verify the password hash")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "Likely locations (ranked by the search):"
    assert lines[1].startswith("1. app/auth/login.py:")
    assert "verify_password" in lines[1]
    assert any("no model is configured" in line for line in lines)


def test_localize_refuses_an_empty_task(workspace: Path) -> None:
    proc = run_cli("localize", "  ", "--path", str(workspace))
    assert proc.returncode == 2
    assert "task or issue text is required" in proc.stderr
