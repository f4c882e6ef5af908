"""Single-specialist crews end to end: real CrewAI, real litellm, scripted model over HTTP.

Each test scripts the model's replies in OpenAI format (tool calls, then a final JSON
answer) and checks what the user would get: the structured result, and what was sent.
"""

from __future__ import annotations

import ast

from llmgenie.agents.crews import execute_crew
from llmgenie.contracts.runs import ProposedEdit
from tests.agents.conftest import SQL_LINE, Harness, final, system_prompt, tool_messages
from tests.support.model_server import Reply


def apply_edit(text: str, edit: ProposedEdit) -> str:
    """Apply an exact replacement the way the editor will: it must match exactly once."""
    assert text.count(edit.old_text) == 1, f"old_text matches {text.count(edit.old_text)} times"
    return text.replace(edit.old_text, edit.new_text, 1)


def test_explain_reads_the_file_and_answers(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/db.py", "start_line": 10, "end_line": 13}),
        final("`find_user` looks a user up by name and returns the first row."),
    )
    result = execute_crew(harness.context("explain", lines=(10, 13)), harness.env())

    assert result.message.startswith("`find_user` looks a user up")
    assert result.edits == [] and result.findings == []
    assert result.model == "openai/scripted-model"
    assert result.tokens > 0
    bodies = harness.chat_bodies()
    assert len(bodies) == 2
    assert "You are Technical Writer" in system_prompt(bodies[0])
    # the briefing carried the selection; the tool's numbered lines went back to the model
    assert "def find_user(conn, name):" in str(bodies[0]["messages"])
    assert any(f"{SQL_LINE:>5}|     cursor.execute" in t for t in tool_messages(bodies[1]))
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["read_file"]
    events = harness.recorder.events
    assert any(e.kind == "tool" and e.data.get("tool") == "read_file" for e in events)
    stages = [e.data.get("stage") for e in events if e.kind == "status"]
    assert stages[0] == "crew_started" and stages[-1] == "crew_finished"
    done = next(e for e in events if e.data.get("stage") == "crew_finished")
    assert done.data["model_calls"] == 2 and done.data["overhead_seconds"] >= 0


def test_document_yields_a_docstring_edit_that_applies_cleanly(harness: Harness) -> None:
    docstring = '    """Return the (id, name) row of the user called `name`, or None."""\n'
    harness.server.script(
        final(
            "Added a docstring to `find_user`.",
            edits=[
                {
                    "path": "app/db.py",
                    "old_text": "def find_user(conn, name):\n",
                    "new_text": "def find_user(conn, name):\n" + docstring,
                    "description": "docstring for find_user",
                }
            ],
        )
    )
    result = execute_crew(harness.context("document", lines=(10, 13)), harness.env())

    assert len(result.edits) == 1
    edited = apply_edit(harness.engine.read_text("app/db.py"), result.edits[0])
    tree = ast.parse(edited)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "find_user")
    assert (
        ast.get_docstring(func) == "Return the (id, name) row of the user called `name`, or None."
    )


def test_security_reports_a_cwe_finding_on_the_right_line(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call(
            "report_finding",
            {
                "path": "app/db.py",
                "start_line": SQL_LINE,
                "severity": "error",
                "rule": "cwe-89",
                "message": "SQL built with an f-string from `name`: SQL injection.",
                "fix": "cursor.execute('SELECT id, name FROM users WHERE name = ?', (name,))",
            },
        ),
        final("One critical issue: SQL injection in `find_user`."),
    )
    result = execute_crew(harness.context("security"), harness.env())

    assert "You are Security Engineer" in system_prompt(harness.chat_bodies()[0])
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.rule, finding.path, finding.start_line) == ("CWE-89", "app/db.py", SQL_LINE)
    text = harness.engine.read_text("app/db.py").splitlines()
    assert "cursor.execute(f" in text[finding.start_line - 1]
    assert harness.recorder.actions("finding_reported")[0]["rule"] == "CWE-89"


def test_security_rejects_a_finding_without_a_cwe_id(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call(
            "report_finding",
            {"path": "app/db.py", "start_line": SQL_LINE, "rule": "SQLi", "message": "bad"},
        ),
        final("Nothing recorded."),
    )
    result = execute_crew(harness.context("security"), harness.env())

    assert result.findings == []
    refusal = tool_messages(harness.chat_bodies()[1])[0]
    assert "not a CWE id" in refusal


def test_performance_finding_from_the_final_answer(harness: Harness) -> None:
    harness.server.script(
        final(
            "`common_names` is O(n·m).",
            findings=[
                {
                    "path": "app/db.py",
                    "start_line": 17,
                    "end_line": 20,
                    "severity": "warning",
                    "rule": "PERF-quadratic-loop",
                    "message": "`user in banned` and `user not in result` scan lists per item.",
                    "fix": "Use sets for `banned` and for the seen names.",
                }
            ],
        )
    )
    result = execute_crew(harness.context("performance"), harness.env())

    assert "You are Performance Engineer" in system_prompt(harness.chat_bodies()[0])
    assert [(f.rule, f.start_line, f.end_line) for f in result.findings] == [
        ("PERF-quadratic-loop", 17, 20)
    ]


def test_devops_creates_a_dockerfile_as_a_new_file_edit(harness: Harness) -> None:
    dockerfile = (
        'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nUSER 10001\nCMD ["python", "-m", "app"]\n'
    )
    harness.server.script(
        Reply.tool_call(
            "search_knowledge", {"query": "Dockerfile non-root user", "topic": "devops"}
        ),
        final(
            "Added a Dockerfile.",
            edits=[{"path": "Dockerfile", "old_text": "", "new_text": dockerfile}],
        ),
    )
    result = execute_crew(harness.context("devops", path=None), harness.env())

    assert "You are DevOps Engineer" in system_prompt(harness.chat_bodies()[0])
    assert [(e.path, e.old_text) for e in result.edits] == [("Dockerfile", "")]
    assert not (harness.root / "Dockerfile").exists()  # edits are proposals, never applied
    guidance = tool_messages(harness.chat_bodies()[1])[0]
    assert "devops/container-images.md" in guidance and "USER 10001" in guidance


def test_tests_crew_proposes_a_new_test_file(harness: Harness) -> None:
    test_file = (
        "from app.db import common_names\n\n\n"
        "def test_common_names():\n    assert common_names(['a'], ['a']) == ['a']\n"
    )
    harness.server.script(
        final(
            "Tests for `common_names`.",
            edits=[{"path": "tests/test_db.py", "old_text": "", "new_text": test_file}],
        )
    )
    result = execute_crew(harness.context("tests", lines=(16, 21)), harness.env())

    assert [e.path for e in result.edits] == ["tests/test_db.py"]
    compile(result.edits[0].new_text, "test_db.py", "exec")


def test_refactor_edit_keeps_the_file_valid(harness: Harness) -> None:
    old = (
        "    result = []\n    for user in users:\n"
        "        if user in banned and user not in result:\n            result.append(user)\n"
        "    return result\n"
    )
    new = (
        "    banned_set = set(banned)\n"
        "    return list(dict.fromkeys(u for u in users if u in banned_set))\n"
    )
    harness.server.script(
        final(
            "Simplified `common_names`.",
            edits=[{"path": "app/db.py", "old_text": old, "new_text": new}],
        )
    )
    result = execute_crew(harness.context("refactor", lines=(16, 21)), harness.env())

    edited = apply_edit(harness.engine.read_text("app/db.py"), result.edits[0])
    namespace: dict[str, object] = {}
    exec(compile(edited, "db.py", "exec"), namespace)
    common_names = namespace["common_names"]
    assert common_names(["a", "b", "a", "c"], ["a", "c"]) == ["a", "c"]  # type: ignore[operator]


def test_fix_crew_receives_the_diagnostic_and_fixes_the_line(harness: Harness) -> None:
    old = "    cursor.execute(f\"SELECT id, name FROM users WHERE name = '{name}'\")\n"
    new = '    cursor.execute("SELECT id, name FROM users WHERE name = ?", (name,))\n'
    harness.server.script(
        final(
            "Parameterised the query.",
            edits=[{"path": "app/db.py", "old_text": old, "new_text": new}],
        )
    )
    ctx = harness.context(
        "fix", lines=(SQL_LINE, SQL_LINE), diagnostic="B608: possible SQL injection"
    )
    result = execute_crew(ctx, harness.env())

    assert "B608: possible SQL injection" in str(harness.chat_bodies()[0]["messages"])
    edited = apply_edit(harness.engine.read_text("app/db.py"), result.edits[0])
    assert 'WHERE name = ?", (name,)' in edited.splitlines()[SQL_LINE - 1]
