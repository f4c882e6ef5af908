"""schemathesis against the live server's /openapi.json, every check: no server error,
no answer that breaks its own schema, status codes and headers as documented, bad input
refused, authentication not ignored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.model_server import Reply
from tests.team.conftest import TeamServerProcess, final_answer


def test_schemathesis_finds_nothing(team_server: TeamServerProcess, tmp_path: Path) -> None:
    # Runs it starts finish fast: the model answers at once.
    team_server.model.default_reply = Reply.plain(final_answer("ok"))
    report = tmp_path / "schemathesis"
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--no-color", "run",
            f"{team_server.url}/openapi.json",
            "--checks", "all",
            "--header", f"Authorization: Bearer {team_server.admin_token}",
            "--max-examples", "15",
            "--workers", "1",
            "--phases", "examples,coverage,fuzzing",
            "--suppress-health-check", "all",
            "--seed", "20261202",
            "--report", "junit",
            "--report-dir", str(report),
            "--generation-database", "none",
            "--rate-limit", "auto",
        ],
        capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-3000:]
