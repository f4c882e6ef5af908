"""ModelClient against the scripted server: real litellm, real HTTP, scripted failures."""

from __future__ import annotations

import json
import threading
import time

import pytest

from llmgenie.contracts.errors import BudgetExceeded, ModelCallError, NoModelConfigured
from llmgenie.contracts.progress import Cancelled, CancelToken
from llmgenie.llm.budget import RunBudget
from llmgenie.llm.client import ModelClient, model_chain
from llmgenie.llm.options import DEFAULT_MAX_TOKENS, InvalidModelOption, ModelOptions
from llmgenie.redaction import Redactor
from tests.runtime.conftest import llm_settings
from tests.support.model_server import ModelServer, Reply

HELLO = [{"role": "user", "content": "hello"}]
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_code",
        "description": "search",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
}


def client(server: ModelServer, *models: str, **kwargs: object) -> ModelClient:
    options: dict[str, object] = {"timeout_s": 10.0, "max_retries": 1, "backoff_s": 0.01}
    options.update(kwargs)
    return ModelClient(
        [f"openai/{m}" for m in models or ("model-a",)],
        api_base=server.url,
        api_key="sk-test",
        **options,  # type: ignore[arg-type]
    )


def requests_for(server: ModelServer, model: str) -> int:
    return sum(1 for r in server.chat_requests() if r.model == model)


def test_outage_falls_back_to_the_next_model_and_says_who_answered(
    model_server: ModelServer,
) -> None:
    model_server.script(Reply.error(500), Reply.error(503), model="model-a")
    model_server.script(Reply.plain("answer from b"), model="model-b")
    completion = client(model_server, "model-a", "model-b").complete(HELLO)
    assert completion.text == "answer from b"
    assert completion.model == "openai/model-b"
    assert completion.fallbacks_tried == ["openai/model-a"]
    assert requests_for(model_server, "model-a") == 2  # first try + one retry
    assert requests_for(model_server, "model-b") == 1


def test_slow_model_times_out_and_the_next_one_answers(model_server: ModelServer) -> None:
    model_server.script(Reply.slow("too late", delay=30), model="model-a")
    model_server.script(Reply.plain("quick"), model="model-b")
    started = time.monotonic()
    completion = client(model_server, "model-a", "model-b", timeout_s=1.5).complete(HELLO)
    assert completion.model == "openai/model-b"
    assert completion.fallbacks_tried == ["openai/model-a"]
    assert time.monotonic() - started < 15
    slow = next(r for r in model_server.chat_requests() if r.model == "model-a")
    assert slow.disconnected  # the timed-out call was really closed, not left hanging
    assert requests_for(model_server, "model-a") == 1  # timeouts are not retried


def test_rate_limit_is_retried_with_backoff_on_the_same_model(model_server: ModelServer) -> None:
    model_server.script(Reply.rate_limited(), Reply.plain("after the limit"), model="model-a")
    completion = client(model_server, "model-a", "model-b").complete(HELLO)
    assert completion.text == "after the limit"
    assert completion.model == "openai/model-a"
    assert completion.fallbacks_tried == []
    assert requests_for(model_server, "model-a") == 2


def test_every_model_failing_names_each_error(model_server: ModelServer) -> None:
    model_server.script(Reply.error(500, "db on fire"), repeat=2, model="model-a")
    model_server.script(Reply.malformed(), model="model-b")
    with pytest.raises(ModelCallError) as info:
        client(model_server, "model-a", "model-b", max_retries=1).complete(HELLO)
    message = str(info.value)
    assert "openai/model-a" in message and "openai/model-b" in message
    assert "500" in message


def test_malformed_answer_falls_back(model_server: ModelServer) -> None:
    model_server.script(Reply.malformed(), model="model-a")
    model_server.script(Reply.plain("sane"), model="model-b")
    completion = client(model_server, "model-a", "model-b", max_retries=0).complete(HELLO)
    assert (completion.text, completion.model) == ("sane", "openai/model-b")


def test_streaming_delivers_deltas_in_order_with_usage(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["The ", "answer ", "is 42."], delay=0.02))
    deltas: list[str] = []
    completion = client(model_server).complete(HELLO, on_delta=deltas.append)
    assert deltas == ["The ", "answer ", "is 42."]
    assert completion.text == "The answer is 42."
    assert completion.completion_tokens > 0 and completion.prompt_tokens > 0
    body = model_server.chat_requests()[0].body
    assert body["stream"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_come_back_in_openai_format(model_server: ModelServer, stream: bool) -> None:
    model_server.script(Reply.tool_call("search_code", {"query": "def total"}))
    completion = client(model_server).complete(
        HELLO, tools=[SEARCH_TOOL], on_delta=(lambda _t: None) if stream else None
    )
    assert len(completion.tool_calls) == 1
    call = completion.tool_calls[0]
    assert call["function"]["name"] == "search_code"
    assert json.loads(call["function"]["arguments"]) == {"query": "def total"}
    assert model_server.chat_requests()[0].body["tools"][0]["function"]["name"] == "search_code"


def test_budget_stops_the_run_before_the_next_call(model_server: ModelServer) -> None:
    model_server.script(Reply.plain("first", prompt_tokens=40, completion_tokens=20))
    model_client = client(model_server, budget=RunBudget(max_tokens=50))
    assert model_client.complete(HELLO).text == "first"
    with pytest.raises(BudgetExceeded, match="60 tokens used of 50"):
        model_client.complete(HELLO)
    assert len(model_server.chat_requests()) == 1  # nothing was sent after the budget ran out


def test_budget_stops_a_runaway_stream(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["word " * 40] * 50, delay=0.01))
    with pytest.raises(BudgetExceeded):
        client(model_server, budget=RunBudget(max_tokens=100)).complete(
            HELLO, on_delta=lambda _t: None
        )
    assert model_server.wait_for_disconnect(timeout=5).chunks_sent < 50


def test_cancel_mid_stream_stops_the_http_call_promptly(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["partial ", "answer"], delay=0.01, hang=True))
    token = CancelToken()
    seen: list[str] = []
    first_delta = threading.Event()

    def on_delta(text: str) -> None:
        seen.append(text)
        first_delta.set()

    def cancel_soon() -> None:
        first_delta.wait(30)
        token.cancel()

    threading.Thread(target=cancel_soon, daemon=True).start()
    model_client = client(model_server, timeout_s=60, cancel=token)
    started = time.monotonic()
    with pytest.raises(Cancelled):
        model_client.complete(HELLO, on_delta=on_delta)
    assert seen and seen[0] == "partial "
    assert first_delta.is_set()
    request = model_server.wait_for_disconnect(timeout=5)
    assert request.disconnected
    assert time.monotonic() - started < 30  # not the 60 s timeout: cancel ended it


def test_cancel_while_waiting_for_a_silent_model(model_server: ModelServer) -> None:
    model_server.script(Reply.hang())
    token = CancelToken()
    timer = threading.Timer(1.0, token.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client(model_server, timeout_s=60, cancel=token).complete(HELLO)
    cancelled_after = time.monotonic() - started
    assert cancelled_after < 10
    assert model_server.wait_for_disconnect(timeout=5).reply_kind == "hang"


def test_secrets_are_redacted_before_sending(model_server: ModelServer) -> None:
    aws = "AKIA" + "4HQ7XK2PZ9LMN3VB"
    model_server.script(Reply.plain("ok"))
    redacting = client(model_server, redact=Redactor())
    redacting.complete([{"role": "user", "content": f"my key is {aws}, is that bad?"}])
    sent = model_server.all_sent_text()
    assert aws not in sent
    assert "«REDACTED:aws_access_key»" in sent


def test_with_model_puts_the_agent_model_first_and_shares_the_budget(
    model_server: ModelServer,
) -> None:
    model_server.script(
        Reply.plain("from b", prompt_tokens=5, completion_tokens=5), model="model-b"
    )
    base = client(model_server, "model-a", "model-b")
    sibling = base.with_model("openai/model-b")
    assert sibling.models == ["openai/model-b", "openai/model-a"]
    assert sibling.complete(HELLO).model == "openai/model-b"
    assert base.budget.tokens == 10  # accounted on the shared run budget


def test_chain_comes_from_settings_and_no_model_is_a_clear_error(
    model_server: ModelServer,
) -> None:
    settings = llm_settings(model_server, fallbacks=["openai/model-b", "openai/model-a"])
    assert model_chain(settings) == ["openai/model-a", "openai/model-b"]
    assert model_chain(settings, "openai/x")[0] == "openai/x"
    with pytest.raises(NoModelConfigured, match="LLMGENIE_LLM__MODEL"):
        ModelClient([])


STDOUT_PROBE = """
import sys
from llmgenie.llm.client import ModelClient
from llmgenie.contracts.errors import ModelCallError
from tests.support.model_server import ModelServer, Reply

server = ModelServer().start()
server.script(Reply.error(500), Reply.plain("ok"), Reply.stream(["a", "b"]))
client = ModelClient(["openai/unpriced-model"], api_base=server.url, api_key="k", backoff_s=0.01)
client.complete([{"role": "user", "content": "hi"}])
client.complete([{"role": "user", "content": "hi"}], on_delta=lambda t: None)
try:
    client.complete([{"role": "user", "content": "hi"}])  # script exhausted: 500s
except ModelCallError:
    pass
server.stop()
"""


def test_model_calls_never_write_to_stdout() -> None:
    """stdout is the LSP channel: litellm hints, logs and errors must stay off it."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", STDOUT_PROBE],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""


# --- answers that are no answers, bounded calls, textual tool calls (issue 13) ----------


@pytest.mark.parametrize(
    "reply",
    [
        Reply.plain(""),
        Reply.plain("<think>The user wants a greeting. Let me think.</think>"),
        Reply.cut(["The answer is"], how="close"),
        Reply.cut(["The answer is"], how="done"),
    ],
    ids=["empty", "only-reasoning", "stream-dropped", "stream-ended-unfinished"],
)
def test_an_answer_that_is_no_answer_counts_as_that_model_failing(
    model_server: ModelServer, reply: Reply
) -> None:
    model_server.script(reply, model="model-a")
    model_server.script(Reply.plain("a real answer"), model="model-b")
    completion = client(model_server, "model-a", "model-b", max_retries=0).complete(HELLO)
    assert (completion.text, completion.model) == ("a real answer", "openai/model-b")
    assert completion.fallbacks_tried == ["openai/model-a"]


def test_no_answer_from_any_model_names_why(model_server: ModelServer) -> None:
    model_server.script(Reply.plain(""))
    with pytest.raises(ModelCallError, match="answered with nothing"):
        client(model_server, max_retries=0).complete(HELLO)


def test_every_call_streams_with_an_output_token_limit(model_server: ModelServer) -> None:
    model_server.script(Reply.plain("one"), Reply.plain("two"), Reply.plain("three"))
    client(model_server).complete(HELLO)
    client(model_server).complete(HELLO, max_tokens=300)
    client(model_server, max_tokens=64).complete(HELLO, max_tokens=300)  # the user's limit wins
    bodies = [r.body for r in model_server.chat_requests()]
    assert all(b["stream"] is True for b in bodies)
    assert [b["max_tokens"] for b in bodies] == [DEFAULT_MAX_TOKENS, 300, 64]


def test_first_token_deadline_is_separate_from_the_idle_deadline(
    model_server: ModelServer,
) -> None:
    """A model may think longer than it may pause, once it has started answering."""
    model_server.script(Reply.stream(["thought ", "through"], first_delay=1.5, delay=0.1))
    completion = client(model_server, timeout_s=1.0, first_token_timeout_s=8.0).complete(HELLO)
    assert completion.text == "thought through"
    assert completion.ttft_s is not None and completion.ttft_s >= 1.4

    model_server.script(Reply.stream(["never"], first_delay=30), model="model-a")
    model_server.script(Reply.plain("quick"), model="model-b")
    started = time.monotonic()
    answer = client(
        model_server, "model-a", "model-b", timeout_s=8.0, first_token_timeout_s=1.0
    ).complete(HELLO)
    assert answer.model == "openai/model-b" and time.monotonic() - started < 8
    dropped = model_server.wait_for_disconnect(timeout=5)  # the server can stop generating
    assert (dropped.model, dropped.chunks_sent) == ("model-a", 0)


def test_a_stalled_stream_hits_the_idle_deadline(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["partial"], hang=True), model="model-a")
    model_server.script(Reply.plain("b"), model="model-b")
    completion = client(
        model_server, "model-a", "model-b", timeout_s=1.0, first_token_timeout_s=30.0
    ).complete(HELLO)
    assert completion.model == "openai/model-b"
    stalled = model_server.wait_for_disconnect(timeout=5)  # the server can stop generating
    assert (stalled.model, stalled.chunks_sent > 0) == ("model-a", True)


def test_local_models_wait_longer_for_the_first_token() -> None:
    local = ModelClient(
        ["ollama/qwen2.5-coder:1.5b"], timeout_s=60, local_first_token_timeout_s=300
    )
    assert local.first_token_deadline("ollama/qwen2.5-coder:1.5b") == 300
    assert local.first_token_deadline("openai/gpt-4o-mini") == 60
    assert ModelClient(["openai/x"], first_token_timeout_s=5).first_token_deadline("openai/x") == 5


def test_model_options_come_from_the_environment_and_name_a_bad_value() -> None:
    options = ModelOptions.from_env(
        {"LLMGENIE_MODEL_MAX_TOKENS": "400", "LLMGENIE_MODEL_FIRST_TOKEN_TIMEOUT_S": "90"}
    )
    assert (options.max_tokens, options.first_token_timeout_s) == (400, 90.0)
    with pytest.raises(InvalidModelOption, match="LLMGENIE_MODEL_MAX_TOKENS='lots'"):
        ModelOptions.from_env({"LLMGENIE_MODEL_MAX_TOKENS": "lots"})


def test_model_knobs_do_not_disturb_the_settings(
    model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGENIE_MODEL_MAX_TOKENS", "123")
    model_server.script(Reply.plain("ok"))
    settings = llm_settings(model_server)
    ModelClient.from_settings(settings).complete(HELLO)
    assert model_server.chat_requests()[0].body["max_tokens"] == 123


@pytest.mark.parametrize(
    "pieces",
    [
        [
            "Let me look. <tool_",
            'call>{"name": "search_code", "arguments": {"query": "x"}}',
            "</tool_call>",
        ],
        ['{"name": "search_code", ', '"arguments": {"query": "x"}}'],
    ],
    ids=["tagged", "bare-json"],
)
def test_a_tool_call_written_as_text_is_a_tool_call_and_never_streamed(
    model_server: ModelServer, pieces: list[str]
) -> None:
    model_server.script(Reply.stream(pieces))
    deltas: list[str] = []
    completion = client(model_server).complete(HELLO, tools=[SEARCH_TOOL], on_delta=deltas.append)
    [call] = completion.tool_calls
    assert call["function"]["name"] == "search_code"
    assert json.loads(call["function"]["arguments"]) == {"query": "x"}
    assert "tool_call" not in "".join(deltas) and '"name"' not in "".join(deltas)


def test_text_that_only_looks_like_a_tool_call_is_streamed_whole(
    model_server: ModelServer,
) -> None:
    model_server.script(Reply.stream(["Use <tool", "> tags or ", '{"a": 1} as you like.']))
    deltas: list[str] = []
    completion = client(model_server).complete(HELLO, tools=[SEARCH_TOOL], on_delta=deltas.append)
    assert completion.tool_calls == []
    assert "".join(deltas) == completion.text == 'Use <tool> tags or {"a": 1} as you like.'
