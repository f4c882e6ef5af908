"""How crews handle bad model output, refusals, budget stops and cancellation."""

from __future__ import annotations

import pytest

from llmgenie.agents.crews import VALIDATION_RETRIES, execute_crew
from llmgenie.contracts.errors import BudgetExceeded, CrewRunFailed, ModelCallError
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import RunEvent
from tests.agents.conftest import SQL_LINE, Harness, final, tool_messages
from tests.support.model_server import Reply


def test_unreadable_answer_is_retried_with_the_error_then_succeeds(harness: Harness) -> None:
    """Security's result is findings, so prose is not an answer: it is asked again."""
    harness.server.script(
        Reply.plain("Sure! I will look for vulnerabilities."),  # not JSON
        final("No injection found in `connect`."),
    )
    result = execute_crew(harness.context("security"), harness.env())

    assert result.message == "No injection found in `connect`."
    retry = harness.chat_bodies()[1]
    assert "not a JSON object" in str(retry["messages"])
    assert any(e.data.get("stage") == "validation_failed" for e in harness.recorder.events)


def test_edit_that_does_not_match_is_sent_back_then_fixed(harness: Harness) -> None:
    wrong = {"path": "app/db.py", "old_text": "def find_user(conn, username):\n", "new_text": "x"}
    right = {
        "path": "app/db.py",
        "old_text": "def find_user(conn, name):\n",
        "new_text": 'def find_user(conn, name):\n    """Find a user."""\n',
    }
    harness.server.script(final("v1", edits=[wrong]), final("v2", edits=[right]))
    result = execute_crew(harness.context("document"), harness.env())

    assert [e.old_text for e in result.edits] == [right["old_text"]]
    assert "old_text was not found" in str(harness.chat_bodies()[1]["messages"])


def test_invalid_output_every_time_fails_the_run_clearly(harness: Harness) -> None:
    attempts = VALIDATION_RETRIES + 1
    # A trailing comma: broken JSON, not merely cut off (that one is asked for briefly).
    harness.server.script(Reply.plain('{"message": 42,}'), repeat=attempts)
    with pytest.raises(CrewRunFailed) as failure:
        execute_crew(harness.context("explain"), harness.env())

    assert f"did not validate after {attempts} attempt(s)" in str(failure.value)
    assert "not valid JSON" in str(failure.value)
    assert len(harness.chat_bodies()) == attempts


def test_document_without_any_edit_is_not_accepted(harness: Harness) -> None:
    harness.server.script(final("I documented it."), repeat=VALIDATION_RETRIES + 1)
    with pytest.raises(CrewRunFailed, match="must propose at least one edit"):
        execute_crew(harness.context("document"), harness.env())


def test_propose_edit_tool_reports_a_mismatch_and_accepts_the_correction(
    harness: Harness,
) -> None:
    harness.server.script(
        Reply.tool_call(
            "propose_edit",
            {"path": "app/db.py", "old_text": "def connect(p):", "new_text": "def connect(path):"},
        ),
        Reply.tool_call(
            "propose_edit",
            {
                "path": "app/db.py",
                "old_text": "def connect(path):\n",
                "new_text": 'def connect(path):\n    """Open the SQLite database."""\n',
                "description": "docstring",
            },
        ),
        final("Documented `connect`."),
    )
    result = execute_crew(harness.context("document"), harness.env())

    first, second = (tool_messages(b)[-1] for b in harness.chat_bodies()[1:3])
    assert first.startswith("Error: edit not recorded") and "not found" in first
    assert second.startswith("Edit #1 to app/db.py recorded")
    assert [e.description for e in result.edits] == ["docstring"]
    assert len(harness.recorder.actions("edit_proposed")) == 1


def test_path_escape_is_refused_and_nothing_outside_is_sent(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call("read_file", {"path": "../../../../etc/passwd"}),
        Reply.tool_call("read_file", {"path": "/etc/passwd"}),
        final("I can only read workspace files."),
    )
    execute_crew(harness.context("explain"), harness.env())

    outputs = [tool_messages(b)[-1] for b in harness.chat_bodies()[1:3]]
    assert "escapes the workspace" in outputs[0]
    assert "outside the workspace" in outputs[1] or "not allowed" in outputs[1]
    assert "root:x:0:0" not in harness.server.all_sent_text()
    assert len(harness.recorder.actions("path_refused")) == 2


def test_tool_not_permitted_for_the_role_is_refused_and_audited(harness: Harness) -> None:
    harness.allowed["security"] = ["search_code", "report_finding"]  # policy removed read_file
    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/db.py"}),
        final("Could not read the file."),
    )
    execute_crew(harness.context("security"), harness.env())

    refusal = tool_messages(harness.chat_bodies()[1])[-1]
    assert refusal.startswith("Permission denied: the security agent is not allowed")
    denied = harness.recorder.actions("permission_denied")
    assert [(d["agent"], d["tool"]) for d in denied] == [("security", "read_file")]
    assert harness.recorder.actions("tool_called") == []
    assert "cursor.execute" not in str(harness.chat_bodies()[1]["messages"][-1])


def test_budget_exceeded_stops_the_run(harness: Harness) -> None:
    harness.budget_tokens = 50  # the first call alone uses more than this
    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/db.py"}), final("never reached")
    )
    with pytest.raises(BudgetExceeded):
        execute_crew(harness.context("explain"), harness.env())
    assert len(harness.chat_bodies()) == 1


def test_cancel_during_a_tool_call_ends_the_run(harness: Harness) -> None:
    def cancel_on_tool(event: RunEvent) -> None:
        harness.recorder.emit(event)
        if event.kind == "tool":
            harness.cancel.cancel()

    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/db.py", "start_line": SQL_LINE}),
        final("never reached"),
    )
    env = harness.env()
    env.emit = cancel_on_tool
    with pytest.raises(Cancelled):
        execute_crew(harness.context("explain"), env)
    assert len(harness.chat_bodies()) == 1


def test_empty_model_answer_counts_as_that_model_failing(harness: Harness) -> None:
    """An empty answer is no answer: the next model of the chain is asked."""
    harness.agent_models = {"documentation": "openai/model-a"}
    harness.server.script(Reply.plain(""), model="model-a")
    harness.server.script(final("`connect` opens the database."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`connect` opens the database."
    assert result.model == "openai/scripted-model"
    assert [b["model"] for b in harness.chat_bodies()] == ["model-a", "scripted-model"]


def test_empty_answer_from_the_only_model_fails_the_run_with_a_reason(harness: Harness) -> None:
    harness.server.script(Reply.plain(""))
    with pytest.raises(ModelCallError, match="answered with nothing"):
        execute_crew(harness.context("explain"), harness.env())


def test_edit_repeated_in_the_final_answer_is_not_duplicated(harness: Harness) -> None:
    edit = {
        "path": "app/db.py",
        "old_text": "def connect(path):\n",
        "new_text": 'def connect(path):\n    """Open the database."""\n',
    }
    harness.server.script(
        Reply.tool_call("propose_edit", edit),
        final("Documented connect.", edits=[{**edit, "path": "./app/db.py"}]),
    )
    result = execute_crew(harness.context("document"), harness.env())
    assert [(e.path, e.old_text) for e in result.edits] == [("app/db.py", edit["old_text"])]


def test_final_answer_cannot_bypass_a_denied_tool(harness: Harness) -> None:
    """Security may not propose edits: edits smuggled into its final answer are dropped."""
    edit = {"path": "app/db.py", "old_text": "def connect(path):\n", "new_text": "def c(p):\n"}
    finding = {
        "path": "app/db.py",
        "start_line": SQL_LINE,
        "end_line": SQL_LINE,
        "rule": "CWE-89",
        "message": "SQL injection",
    }
    harness.server.script(final("One issue.", edits=[edit], findings=[finding]))
    result = execute_crew(harness.context("security"), harness.env())

    assert result.edits == []
    assert [f.rule for f in result.findings] == ["CWE-89"]
    denied = harness.recorder.actions("permission_denied")
    assert [(d["tool"], d["via"]) for d in denied] == [("propose_edit", "final_answer")]
