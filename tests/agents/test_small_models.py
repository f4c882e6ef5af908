"""Crews and chat with models that behave like small local ones: tool calls written as
text, slow first tokens, a need for output limits and cache-friendly prompts. Real CrewAI
and litellm against the scripted model server."""

from __future__ import annotations

import threading

import pytest

from llmgenie.agents.chat import MAX_OUTPUT_TOKENS as CHAT_MAX_TOKENS
from llmgenie.agents.crew_specs import CREWS
from llmgenie.agents.crews import execute_crew
from llmgenie.contracts.progress import Cancelled
from tests.agents.conftest import Harness, final, system_prompt, tool_messages
from tests.support.model_server import Reply

TEXT_READ_CALL = (
    "I need the code first.\n<tool_call>\n"
    '{"name": "read_file", "arguments": {"path": "app/db.py", "start_line": 10}}\n'
    "</tool_call>"
)


def test_a_crew_runs_a_tool_call_the_model_wrote_as_text(harness: Harness) -> None:
    harness.server.script(Reply.plain(TEXT_READ_CALL), final("`find_user` runs a query."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` runs a query."
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["read_file"]
    assert any("def find_user(conn, name):" in t for t in tool_messages(harness.chat_bodies()[1]))


def test_chat_runs_a_textual_tool_call_and_never_shows_it(harness: Harness) -> None:
    harness.server.script(
        Reply.stream(["Let me check. ", "<tool_call>", TEXT_READ_CALL.split("<tool_call>")[1]]),
        Reply.stream(["It builds SQL ", "with an f-string."]),
    )
    result = execute_crew(harness.context("chat", prompt="What does it do?"), harness.env())

    assert result.message == "It builds SQL with an f-string."
    shown = harness.recorder.deltas()
    assert "tool_call" not in shown and "read_file" not in shown
    assert shown == "Let me check. It builds SQL with an f-string."
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["read_file"]


def test_every_call_carries_an_output_limit_sized_for_the_crew(harness: Harness) -> None:
    harness.server.script(final("It opens the database."), Reply.stream(["Hi."]))
    execute_crew(harness.context("explain"), harness.env())
    execute_crew(harness.context("chat", prompt="hi"), harness.env())

    crew_call, chat_call = harness.chat_bodies()
    assert crew_call["max_tokens"] == CREWS["explain"].max_output_tokens
    assert chat_call["max_tokens"] == CHAT_MAX_TOKENS
    assert crew_call["stream"] is True and chat_call["stream"] is True


def test_the_system_prompt_is_byte_identical_between_requests(harness: Harness) -> None:
    """Local servers cache the prompt prefix: a repeated system prompt costs nothing."""
    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/db.py"}), final("first run"), final("second")
    )
    execute_crew(harness.context("explain", lines=(10, 13)), harness.env())
    execute_crew(harness.context("explain", lines=(6, 7)), harness.env())

    prompts = {system_prompt(body) for body in harness.chat_bodies()}
    assert len(harness.chat_bodies()) == 3 and len(prompts) == 1


def test_a_slow_first_token_is_shown_as_progress(harness: Harness) -> None:
    harness.server.script(Reply.stream(["Slow ", "but here."], first_delay=2.2))
    execute_crew(harness.context("chat", prompt="hi"), harness.env())

    [slow] = [e for e in harness.recorder.events if e.data.get("stage") == "model_first_token"]
    assert slow.kind == "progress" and float(slow.data["ttft_s"]) >= 2.0
    assert "first token after" in slow.message


def test_cancel_works_while_the_model_is_still_thinking(harness: Harness) -> None:
    harness.server.script(Reply.stream(["never shown"], first_delay=60))

    def cancel_once_asked() -> None:
        harness.server.wait_for_requests(1, timeout=30)
        harness.cancel.cancel()

    threading.Thread(target=cancel_once_asked, daemon=True).start()
    with pytest.raises(Cancelled):
        execute_crew(harness.context("explain"), harness.env())
    assert harness.server.wait_for_disconnect(timeout=10).chunks_sent == 0


def test_a_malformed_tool_call_is_answered_with_an_error_and_the_run_goes_on(
    harness: Harness,
) -> None:
    harness.server.script(
        Reply.tool_call("read_file", '{"path": "app/db.py", "start_line": '),  # cut-off JSON
        final("`connect` opens the database."),
    )
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`connect` opens the database."
    bodies = harness.chat_bodies()
    assert len(bodies) == 2
    [told] = tool_messages(bodies[1])
    assert "Please provide valid JSON arguments for the 'read_file' tool" in told
    assert harness.recorder.actions("tool_called") == []  # nothing ran on half arguments


def test_a_malformed_text_tool_call_is_answered_with_an_error_not_shown_as_the_answer(
    harness: Harness,
) -> None:
    """A small model's textual tool call cut off mid-arguments: the model is told, as for a
    native call, and the user never sees the broken call as the explanation."""
    broken = (
        "I need the code first.\n<tool_call>\n"
        '{"name": "read_file", "arguments": {"path": "app/db.py", "start_line": 1'
    )
    harness.server.script(Reply.plain(broken), final("`find_user` runs a query."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` runs a query."
    bodies = harness.chat_bodies()
    assert len(bodies) == 2
    [told] = tool_messages(bodies[1])
    assert "Please provide valid JSON arguments for the 'read_file' tool" in told
    assert harness.recorder.actions("tool_called") == []  # nothing ran on half arguments
