"""The chat crew: streamed answer, native tool calls through the same audited tools."""

from __future__ import annotations

import pytest

from llmgenie.agents.crews import execute_crew
from llmgenie.contracts.progress import Cancelled
from llmgenie.contracts.runs import RunEvent
from tests.agents.conftest import Harness, tool_messages
from tests.support.model_server import Reply


def test_chat_streams_the_answer_as_delta_events(harness: Harness) -> None:
    chunks = ["`find_user` ", "builds its SQL ", "with an f-string."]
    harness.server.script(Reply.stream(chunks))
    ctx = harness.context("chat", lines=(10, 13), prompt="What does this do?")
    result = execute_crew(ctx, harness.env())

    assert result.message == "".join(chunks)
    assert harness.recorder.deltas() == result.message
    body = harness.chat_bodies()[0]
    assert body["stream"] is True
    assert "What does this do?" in body["messages"][-1]["content"]
    assert "def find_user(conn, name):" in body["messages"][-1]["content"]
    assert {t["function"]["name"] for t in body["tools"]} >= {"search_code", "read_file"}


def test_chat_uses_a_tool_when_the_model_asks(harness: Harness) -> None:
    harness.server.script(
        Reply.tool_call("find_references", {"name": "find_user"}),
        Reply.stream(["It is defined in app/db.py."]),
    )
    ctx = harness.context("chat", prompt="Where is find_user defined?")
    result = execute_crew(ctx, harness.env())

    assert result.message == "It is defined in app/db.py."
    output = tool_messages(harness.chat_bodies()[1])[0]
    assert "Definitions of find_user:" in output and "app/db.py:10" in output
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["find_references"]


def test_chat_cancel_mid_stream_stops_the_model_call(harness: Harness) -> None:
    def cancel_after_first_delta(event: RunEvent) -> None:
        harness.recorder.emit(event)
        if event.kind == "delta":
            harness.cancel.cancel()

    harness.server.script(Reply.stream(["first ", "second ", "third"], delay=0.5))
    env = harness.env()
    env.emit = cancel_after_first_delta
    with pytest.raises(Cancelled):
        execute_crew(harness.context("chat", prompt="Explain"), env)
    assert harness.recorder.deltas() == "first "
    assert harness.server.wait_for_disconnect(timeout=5).chunks_sent < 4


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", ""),  # cut-off JSON
        ("<html><body>502 Bad Gateway</body></html>", "text/html"),
        ("data: {not json at all\n\ndata: [DONE]\n\n", "text/event-stream"),
        ('data: {"unexpected": true}\n\ndata: [DONE]\n\n', "text/event-stream"),
        (
            'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", '
            '"choices": [{"index": 0, "delta": {"content": "Half an"}, "finish_reason": null}]}'
            "\n\ndata: {garbage\n\ndata: [DONE]\n\n",
            "text/event-stream",
        ),
    ],
    ids=["cut-json", "html", "sse-garbage", "sse-no-chunks", "sse-garbage-mid-answer"],
)
def test_a_malformed_primary_answer_falls_back_in_a_streaming_chat(
    harness: Harness, body: str, content_type: str
) -> None:
    """HTTP 200 with a body that is no answer is the primary model failing: the chat gets
    the fallback's answer, never an empty 'succeeded' one."""
    harness.models = ["openai/model-a", "openai/model-b"]
    harness.server.script(Reply.malformed(body, content_type), model="model-a")
    harness.server.script(Reply.stream(["The fallback ", "answered."]), model="model-b")
    result = execute_crew(harness.context("chat", prompt="Explain"), harness.env())

    assert result.message == "The fallback answered."
    assert [r.model for r in harness.server.chat_requests()] == ["model-a", "model-b"]
    shown = harness.recorder.deltas()
    if "Half an" in body:  # what the reader saw of the broken answer is marked as failed
        assert shown.startswith("Half an\n\n(openai/model-a failed mid-answer: ")
        assert shown.endswith("retrying)\n\nThe fallback answered.")
    else:
        assert shown == "The fallback answered."
