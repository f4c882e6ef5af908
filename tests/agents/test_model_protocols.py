"""What the requests look like for models that need help: the provider's JSON mode for
JSON answers, tools described in the prompt when native tool calling is off, and prompts
sized to the model's context window. Real CrewAI and litellm against the scripted server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmgenie.agents.crews import execute_crew
from llmgenie.llm.capabilities import context_window
from llmgenie.llm.client import ModelClient
from llmgenie.llm.options import InvalidModelOption, ModelOptions
from tests.agents.conftest import Harness, final, system_prompt, tool_messages
from tests.support.model_server import Reply

TAGGED_READ = (
    "Reading it.\n<tool_call>\n"
    '{"name": "read_file", "arguments": {"path": "app/db.py", "start_line": 10}}\n'
    "</tool_call>"
)


def _user_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"] if m.get("role") == "user")


# --- JSON mode ------------------------------------------------------------------------------


def test_a_crew_asks_for_json_mode_with_the_schema_in_the_prompt(harness: Harness) -> None:
    harness.server.script(final("`connect` opens the database."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`connect` opens the database."
    [body] = harness.chat_bodies()
    assert body["response_format"] == {"type": "json_object"}
    sent = json.dumps(body["messages"])
    assert "JSON schema" in sent and "old_text" in sent  # the schema travels in the prompt


def test_chat_answers_in_prose_so_it_never_asks_for_json_mode(harness: Harness) -> None:
    harness.server.script(Reply.stream(["Hello."]))
    execute_crew(harness.context("chat", prompt="hi"), harness.env())

    [body] = harness.chat_bodies()
    assert "response_format" not in body


def test_a_provider_without_json_mode_gets_no_response_format(harness: Harness) -> None:
    harness.models = ["featherless_ai/scripted-model"]  # litellm: no response_format there
    harness.server.script(final("`connect` opens the database."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`connect` opens the database."
    [body] = harness.chat_bodies()
    assert "response_format" not in body


def test_json_mode_can_be_switched_off(harness: Harness) -> None:
    harness.client_options = {"json_mode": "off"}
    harness.server.script(final("done"))
    execute_crew(harness.context("explain"), harness.env())

    assert "response_format" not in harness.chat_bodies()[0]


def test_the_knobs_are_read_from_the_environment_and_checked() -> None:
    options = ModelOptions.from_env(
        {
            "LLMGENIE_MODEL_JSON_MODE": "OFF",
            "LLMGENIE_MODEL_TOOL_PROTOCOL": "text",
            "LLMGENIE_MODEL_CONTEXT_WINDOW": "4096",
        }
    )
    assert (options.json_mode, options.tool_protocol, options.context_window) == (
        "off",
        "text",
        4096,
    )
    with pytest.raises(InvalidModelOption, match="LLMGENIE_MODEL_TOOL_PROTOCOL"):
        ModelOptions.from_env({"LLMGENIE_MODEL_TOOL_PROTOCOL": "smoke-signals"})


# --- the text tool-call protocol ------------------------------------------------------------


def test_text_tools_are_described_in_the_prompt_and_a_crew_reads_a_file_through_one(
    harness: Harness,
) -> None:
    harness.client_options = {"tool_protocol": "text", "json_mode": "off"}
    harness.server.script(Reply.plain(TAGGED_READ), final("`find_user` runs a query."))
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` runs a query."
    assert [d["tool"] for d in harness.recorder.actions("tool_called")] == ["read_file"]
    first, second = harness.chat_bodies()
    assert "tools" not in first and "tools" not in second  # nothing native was sent
    system = system_prompt(first)
    assert '"name":"read_file"' in system and "<tool_call>" in system
    # The call and its result come back as text a model without tool messages can read.
    assert tool_messages(second) == []
    assert all(m["role"] in ("system", "user", "assistant") for m in second["messages"])
    replayed = json.dumps(second["messages"])
    assert "<tool_call>" in replayed and '<tool_response name=\\"read_file\\">' in replayed
    assert "def find_user(conn, name):" in _user_text(second)
    assert system_prompt(second) == system


def test_with_json_mode_a_text_tool_call_is_a_bare_json_object(harness: Harness) -> None:
    harness.client_options = {"tool_protocol": "text"}
    harness.server.script(
        Reply.plain('{"name": "read_file", "arguments": {"path": "app/db.py"}}'),
        final("`find_user` runs a query."),
    )
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` runs a query."
    first, second = harness.chat_bodies()
    assert first["response_format"] == {"type": "json_object"}
    assert "answer with only this JSON object" in system_prompt(first)
    assert "def find_user(conn, name):" in _user_text(second)


def test_a_cut_off_text_tool_call_in_json_mode_gets_the_tool_error_back(harness: Harness) -> None:
    """The bare JSON call stops mid-arguments: the model reads the tool's complaint in the
    replayed text and answers; the broken call is never the user's answer."""
    harness.client_options = {"tool_protocol": "text"}
    harness.server.script(
        Reply.plain('{"name": "read_file", "arguments": {"path": "app/db.py", "start_'),
        final("`find_user` runs a query."),
    )
    result = execute_crew(harness.context("explain"), harness.env())

    assert result.message == "`find_user` runs a query."
    assert harness.recorder.actions("tool_called") == []
    second = harness.chat_bodies()[1]
    assert "Please provide valid JSON arguments for the 'read_file' tool" in _user_text(second)


def test_two_runs_with_text_tools_send_byte_identical_system_prompts(harness: Harness) -> None:
    """Servers cache the prompt prefix: the tool description must not vary between runs."""
    harness.client_options = {"tool_protocol": "text"}
    harness.server.script(final("one"), final("two"))
    execute_crew(harness.context("explain", lines=(10, 13)), harness.env())
    execute_crew(harness.context("explain", lines=(6, 7)), harness.env())

    first, second = (system_prompt(body) for body in harness.chat_bodies())
    assert first == second and "# Tools" in first


def test_auto_picks_text_tools_only_for_models_known_to_lack_them() -> None:
    client = ModelClient(["openai/gpt-4o-mini"])
    assert client.uses_text_tools("openai/gpt-4o-mini") is False
    assert client.uses_text_tools("ollama/llama2") is True


# --- prompts sized to the window ------------------------------------------------------------


def test_the_window_comes_from_litellm_with_a_small_default_for_unknown_local_models() -> None:
    assert context_window("gpt-4o-mini") == 128_000
    assert context_window("ollama_chat/some-new-model:1b") == 8192
    assert context_window("openai/my-gguf", api_base="http://127.0.0.1:8080/v1") == 8192
    assert context_window("openai/my-deployment", api_base="https://llm.example.com/v1") > 8192
    assert context_window("ollama_chat/some-new-model:1b", override=32_768) == 32_768


def _big_module(lines: int) -> str:
    return "".join(f"def function_{n}(value):\n    return value + {n}\n" for n in range(lines // 2))


def _run_explain_on_big_file(harness: Harness, window: int) -> tuple[str, str]:
    (harness.root / "app" / "big.py").write_text(_big_module(3000), encoding="utf-8")
    harness.client_options = {"context_window": window}
    harness.server.reset()
    harness.server.script(
        Reply.tool_call("read_file", {"path": "app/big.py", "start_line": 1}), final("ok")
    )
    execute_crew(harness.context("explain", path="app/big.py", lines=(1501, 1502)), harness.env())
    first, second = harness.chat_bodies()
    [tool_result] = tool_messages(second)
    return _user_text(first), tool_result


def test_a_small_window_gets_a_briefing_and_tool_results_that_fit(harness: Harness) -> None:
    small_prompt, small_tool = _run_explain_on_big_file(harness, 8192)
    large_prompt, large_tool = _run_explain_on_big_file(harness, 128_000)

    # 8k tokens is ~24k characters of code, with room left for the answer and tools.
    assert len(small_prompt) < 12_000 < len(large_prompt)
    assert len(small_tool) < 3_500 < len(large_tool)
    for prompt in (small_prompt, large_prompt):
        assert "def function_750(value):" in prompt  # the selection is always there
        assert "use read_file for the rest" in prompt
    assert "def function_600(value):" not in small_prompt
    assert "def function_600(value):" in large_prompt
    assert "truncated" in small_tool
