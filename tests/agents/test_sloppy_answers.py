"""Final answers as real models write them: extra keys, fences, prose, reasoning, cut-offs,
half-valid item lists. Real CrewAI and litellm against the scripted model server; each test
checks what the user gets and how many times the model had to be asked."""

from __future__ import annotations

import json

from llmgenie.agents.crews import VALIDATION_RETRIES, execute_crew
from llmgenie.agents.report_guard import ITEM_CUT_NOTE
from llmgenie.agents.results import CUT_OFF_NOTE
from tests.agents.conftest import SQL_LINE, Harness
from tests.support.model_server import Reply

DOCSTRING_EDIT = {
    "path": "app/db.py",
    "old_text": "def connect(path):\n",
    "new_text": 'def connect(path):\n    """Open the SQLite database at `path`."""\n',
    "description": "docstring for connect",
}
SQL_FINDING = {
    "path": "app/db.py",
    "start_line": SQL_LINE,
    "end_line": SQL_LINE,
    "severity": "error",
    "rule": "CWE-89",
    "message": "f-string SQL with user input",
    "fix": "use a parameterised query",
}


def stages(harness: Harness) -> list[object]:
    return [e.data.get("stage") for e in harness.recorder.events if e.kind == "status"]


def test_an_undocumented_key_is_ignored_and_answered_on_the_first_attempt(
    harness: Harness,
) -> None:
    answer = {
        "message": "`find_user` returns the first matching row.",
        "summary": "looks a user up",
        "edits": [],
        "findings": [],
    }
    harness.server.script(Reply.plain(json.dumps(answer)))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` returns the first matching row."
    assert len(harness.chat_bodies()) == 1
    assert "validation_failed" not in stages(harness)


def test_the_message_under_another_name_is_the_message(harness: Harness) -> None:
    harness.server.script(Reply.plain(json.dumps({"answer": "It opens the database."})))
    result = execute_crew(harness.context("explain"), harness.env())
    assert result.message == "It opens the database."
    assert len(harness.chat_bodies()) == 1


def test_json_in_a_fence_after_reasoning_and_prose_is_found(harness: Harness) -> None:
    text = (
        "<think>The query is built with an f-string {name}... that is CWE-89.</think>\n"
        "Here is my report:\n```json\n"
        + json.dumps({"message": "One injection.", "findings": [SQL_FINDING]})
        + "\n```\nLet me know if you need more."
    )
    harness.server.script(Reply.plain(text))
    result = execute_crew(harness.context("security"), harness.env())

    assert result.message == "One injection."
    assert [(f.rule, f.start_line) for f in result.findings] == [("CWE-89", SQL_LINE)]
    assert len(harness.chat_bodies()) == 1


def test_markdown_prose_is_the_explanation(harness: Harness) -> None:
    prose = "Thought: I know it now.\nFinal Answer: ## find_user\nIt looks a user up by name."
    harness.server.script(Reply.plain(prose))
    result = execute_crew(harness.context("explain"), harness.env())
    assert result.message == "## find_user\nIt looks a user up by name."
    assert len(harness.chat_bodies()) == 1


def test_finding_in_the_words_models_use_is_understood(harness: Harness) -> None:
    finding = {
        "file": "app/db.py",
        "line": SQL_LINE,
        "severity": "HIGH",
        "cwe": "cwe-89",
        "description": "SQL injection",
    }
    harness.server.script(Reply.plain(json.dumps({"summary": "One issue.", "findings": [finding]})))
    result = execute_crew(harness.context("security"), harness.env())

    [kept] = result.findings
    assert (kept.path, kept.start_line, kept.end_line) == ("app/db.py", SQL_LINE, SQL_LINE)
    assert (kept.severity, kept.rule, kept.message) == ("error", "CWE-89", "SQL injection")


def test_an_answer_cut_off_mid_edit_keeps_only_its_complete_edits(harness: Harness) -> None:
    whole = json.dumps({"message": "Documented both.", "edits": [DOCSTRING_EDIT]})
    cut = whole[:-2] + ', {"path": "app/db.py", "old_text": "def find_user(conn, na'
    harness.server.script(Reply.plain(cut))
    result = execute_crew(harness.context("document"), harness.env())

    assert [e.old_text for e in result.edits] == [DOCSTRING_EDIT["old_text"]]
    assert result.message == "Documented both." + ITEM_CUT_NOTE  # the lost edit is told
    assert len(harness.chat_bodies()) == 1


def test_an_explanation_stopped_by_the_output_limit_is_kept_and_marked_as_cut(
    harness: Harness,
) -> None:
    """The model ran out of output tokens mid-sentence: the user gets what it wrote, told
    that it stops there, without a second (slow) call."""
    cut = '{"message": "`find_user` builds its SQL with an f-string, so a name like x\' OR 1=1 re'
    harness.server.script(Reply.plain(cut, finish_reason="length"))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == (
        "`find_user` builds its SQL with an f-string, so a name like x' OR 1=1 re" + CUT_OFF_NOTE
    )
    assert len(harness.chat_bodies()) == 1
    assert "validation_failed" not in stages(harness)


def test_an_answer_cut_off_before_anything_usable_is_asked_again_briefly(
    harness: Harness,
) -> None:
    cut = '{"findings": [{"path": "app/db.py", "start_line": 12, "message": "f-string SQL'
    harness.server.script(
        Reply.plain(cut, finish_reason="length"),
        Reply.plain(json.dumps({"message": "One injection.", "findings": [SQL_FINDING]})),
    )
    result = execute_crew(harness.context("security"), harness.env())

    assert [(f.rule, f.start_line) for f in result.findings] == [("CWE-89", SQL_LINE)]
    retry = str(harness.chat_bodies()[1]["messages"])
    assert "Your answer was cut off before it ended; answer more briefly." in retry
    assert "escape newlines" not in retry  # nothing was wrong with its JSON but the end


def test_valid_items_are_kept_and_invalid_ones_reported_not_dropped(harness: Harness) -> None:
    wrong = {"path": "app/db.py", "old_text": "def connect(p):\n", "new_text": "x"}
    escape = {"path": "../../outside.py", "old_text": "", "new_text": "print('hi')\n"}
    harness.server.script(
        Reply.plain(
            json.dumps({"message": "Added docs.", "edits": [wrong, DOCSTRING_EDIT, escape]})
        )
    )
    result = execute_crew(harness.context("document"), harness.env())

    assert [e.description for e in result.edits] == ["docstring for connect"]
    assert result.message.startswith("Added docs.\n\n**Not kept**")
    assert "edit to app/db.py: old_text was not found" in result.message
    assert "../../outside.py" in result.message
    assert len(harness.chat_bodies()) == 1  # nothing required was missing: no retry
    [event] = [e for e in harness.recorder.events if e.data.get("stage") == "items_not_kept"]
    assert len(event.data["items"]) == 2
    [audited] = harness.recorder.actions("answer_items_rejected")
    assert audited["count"] == 2
    assert not (harness.root.parent.parent / "outside.py").exists()


def test_a_retry_asks_only_for_what_is_missing_and_keeps_the_rest(harness: Harness) -> None:
    wrong = {"path": "app/db.py", "old_text": "def connect(p):\n", "new_text": "x"}
    harness.server.script(
        Reply.plain(json.dumps({"message": "Documented connect.", "edits": [wrong]})),
        Reply.plain(json.dumps({"edits": [DOCSTRING_EDIT]})),  # no message this time
    )
    result = execute_crew(harness.context("document"), harness.env())

    assert result.message == "Documented connect."  # kept from the first answer
    assert [e.old_text for e in result.edits] == [DOCSTRING_EDIT["old_text"]]
    assert "Not kept" not in result.message  # the edit to app/db.py was made good
    retry = str(harness.chat_bodies()[1]["messages"])
    assert "Already kept from your answers: the message" in retry
    assert "Still missing: this task must propose at least one edit" in retry
    assert "old_text was not found" in retry


def test_the_last_attempt_returns_whatever_is_usable(harness: Harness) -> None:
    """Explain needs a message; three answers with only an edit still give the user that."""
    harness.server.script(
        Reply.plain(json.dumps({"edits": [DOCSTRING_EDIT]})), repeat=VALIDATION_RETRIES + 1
    )
    result = execute_crew(harness.context("explain"), harness.env())

    assert len(harness.chat_bodies()) == VALIDATION_RETRIES + 1
    assert [e.old_text for e in result.edits] == [DOCSTRING_EDIT["old_text"]]
    assert "the model gave no summary" in result.message


def test_a_stream_that_drops_mid_answer_is_said_and_the_next_model_answers(
    harness: Harness,
) -> None:
    """The connection drops mid-answer (a local server that crashed): the user saw part of
    it, is told it failed, and gets the fallback model's whole answer as the result."""
    harness.models = ["openai/model-a", "openai/model-b"]
    harness.server.script(Reply.cut(["`find_user` builds ", "its SQL"]), model="model-a")
    harness.server.script(Reply.stream(["It builds SQL with an f-string."]), model="model-b")
    result = execute_crew(harness.context("chat", prompt="What does it do?"), harness.env())

    assert result.message == "It builds SQL with an f-string."
    shown = harness.recorder.deltas()
    assert shown.startswith("`find_user` builds its SQL\n\n(openai/model-a failed mid-answer")
    assert shown.endswith("retrying)\n\nIt builds SQL with an f-string.")
