"""The agent tools directly (no model): confinement, permissions, edit checks, redaction."""

from __future__ import annotations

import os

from llmgenie.agents.results import ReportPolicy
from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox
from tests.agents.conftest import SQL_LINE, Harness


def toolbox(
    harness: Harness, role: str = "coordinator", policy: ReportPolicy | None = None
) -> AgentToolbox:
    state = RunState(ctx=harness.context("explain"), env=harness.env())
    return AgentToolbox(state, role, policy=policy)


def test_read_file_range_is_numbered(harness: Harness) -> None:
    out = toolbox(harness).call(
        "read_file", {"path": "app/db.py", "start_line": 10, "end_line": 11}
    )
    assert out.splitlines() == [
        "app/db.py (lines 10-11 of 21)",
        "   10| def find_user(conn, name):",
        "   11|     cursor = conn.cursor()",
        "(… 10 more lines)",
    ]


def test_symlink_out_of_the_workspace_is_refused(harness: Harness) -> None:
    os.symlink("/etc", harness.root / "etc-link")
    box = toolbox(harness)
    out = box.call("read_file", {"path": "etc-link/hostname"})
    assert out.startswith("Error:") and "outside the workspace" in out
    assert box.state.env.audit is not None
    assert harness.recorder.actions("path_refused")


def test_propose_edit_rules(harness: Harness) -> None:
    box = toolbox(harness)
    missing = box.call("propose_edit", {"path": "app/db.py", "old_text": "nope", "new_text": "x"})
    assert "not found" in missing
    twice = box.call("propose_edit", {"path": "app/db.py", "old_text": "cursor", "new_text": "c"})
    assert "occurs" in twice and "times" in twice
    exists = box.call("propose_edit", {"path": "app/db.py", "old_text": "", "new_text": "x"})
    assert "exists" in exists
    outside = box.call("propose_edit", {"path": "../x.py", "old_text": "", "new_text": "x"})
    assert "escapes the workspace" in outside
    ok = box.call(
        "propose_edit",
        {
            "path": "app/db.py",
            "old_text": "def connect(path):",
            "new_text": "def connect(db_path):",
        },
    )
    assert ok.startswith("Edit #1")
    overlap = box.call(
        "propose_edit",
        {"path": "app/db.py", "old_text": "def connect(path):\n    return", "new_text": "y"},
    )
    assert "overlaps" in overlap
    assert [e.new_text for e in box.state.edits] == ["def connect(db_path):"]


def test_report_finding_checks_lines_and_rule(harness: Harness) -> None:
    box = toolbox(harness, "security", ReportPolicy(finding_rule="cwe"))
    past_end = box.call(
        "report_finding", {"path": "app/db.py", "start_line": 999, "rule": "CWE-89", "message": "m"}
    )
    assert "past the end of the file" in past_end
    ok = box.call(
        "report_finding",
        {"path": "app/db.py", "start_line": SQL_LINE, "rule": "CWE-89", "message": "sqli"},
    )
    assert ok.startswith("Finding #1 (CWE-89, app/db.py:12)")
    assert box.state.findings[0].end_line == SQL_LINE


def test_tool_output_is_redacted(harness: Harness) -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    (harness.root / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key}"\n', encoding="utf-8")
    out = toolbox(harness).call("read_file", {"path": "settings.py"})
    assert key not in out and "REDACTED" in out


def test_bad_arguments_and_unknown_tools_return_errors(harness: Harness) -> None:
    box = toolbox(harness)
    assert box.call("read_file", {"start_line": 1}).startswith("Error: invalid arguments")
    assert box.call("read_file", "{not json").startswith("Error: tool arguments are not valid JSON")
    assert box.call("rm_rf", {}).startswith("Error: unknown tool")


def test_edit_to_a_crlf_file_matches_with_the_files_line_endings(harness: Harness) -> None:
    (harness.root / "win.py").write_bytes(b"def a():\r\n    return 1\r\n")
    box = toolbox(harness)
    out = box.call(
        "propose_edit",
        {
            "path": "win.py",
            "old_text": "def a():\n    return 1\n",
            "new_text": "def a():\n    return 2\n",
        },
    )
    assert out.startswith("Edit #1")
    edit = box.state.edits[0]
    assert (edit.old_text, edit.new_text) == (
        "def a():\r\n    return 1\r\n",
        "def a():\r\n    return 2\r\n",
    )
