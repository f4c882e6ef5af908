"""Single-specialist crews end to end: real CrewAI, real litellm, scripted model over HTTP."""

from __future__ import annotations

from llmgenie.agents.crews import execute_crew
from tests.agents.conftest import SQL_LINE, Harness, final, system_prompt, tool_messages
from tests.support.model_server import Reply


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
    # the tool's output (numbered file lines) went back to the model
    assert any(f"{SQL_LINE:>5}|     cursor.execute" in t for t in tool_messages(bodies[1]))
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["read_file"]
    assert any(
        e.kind == "tool" and e.data.get("tool") == "read_file" for e in harness.recorder.events
    )
