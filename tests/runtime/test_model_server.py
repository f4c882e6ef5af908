"""The scripted model server speaks the OpenAI wire format the way litellm expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.model_server import ModelServer, Reply


def _chat(server: ModelServer, **body: object) -> httpx.Response:
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
    return httpx.post(f"{server.url}/chat/completions", json=payload, timeout=10)


def test_plain_reply_and_request_recorded(model_server: ModelServer) -> None:
    model_server.script(Reply.plain("hello there", completion_tokens=7))
    resp = _chat(model_server)
    assert resp.status_code == 200
    data = resp.json()
    assert data["choices"][0]["message"]["content"] == "hello there"
    assert data["usage"]["completion_tokens"] == 7
    assert model_server.chat_requests()[0].body["messages"][0]["content"] == "hi"


def test_stream_sends_sse_chunks_usage_and_done(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["a", "b", "c"], delay=0.01))
    resp = _chat(model_server, stream=True)
    lines = [ln for ln in resp.text.splitlines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(ln[6:]) for ln in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "abc"
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_model_keyed_queues_then_default_then_exhausted(model_server: ModelServer) -> None:
    model_server.script(Reply.error(500), model="a")
    model_server.script(Reply.plain("from default"))
    assert _chat(model_server, model="a").status_code == 500
    assert _chat(model_server, model="a").json()["choices"][0]["message"]["content"] == (
        "from default"
    )
    exhausted = _chat(model_server, model="a")
    assert exhausted.status_code == 500
    assert "no reply left" in exhausted.json()["error"]["message"]


def test_rate_limit_and_malformed(model_server: ModelServer) -> None:
    model_server.script(Reply.rate_limited(retry_after=1), Reply.malformed())
    limited = _chat(model_server)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    broken = _chat(model_server)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)


def test_hang_notices_client_disconnect(model_server: ModelServer) -> None:
    model_server.script(Reply.stream(["partial"], hang=True))
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            f"{model_server.url}/chat/completions",
            json={"model": "m", "messages": [], "stream": True},
        ) as resp,
    ):
        for line in resp.iter_lines():
            if "partial" in line:
                break
    # leaving the context closed the connection mid-stream
    gone = model_server.wait_for_disconnect(timeout=5)
    assert gone.chunks_sent == 2


def test_embeddings_are_deterministic(model_server: ModelServer) -> None:
    body = {"model": "e", "input": ["parse the config", "parse the config", "unrelated"]}
    data = httpx.post(f"{model_server.url}/embeddings", json=body, timeout=10).json()["data"]
    assert data[0]["embedding"] == data[1]["embedding"]
    assert data[0]["embedding"] != data[2]["embedding"]


def test_standalone_process_with_script_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"replies": [{"kind": "text", "text": "scripted!"}]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.model_server", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        payload = {"model": "m", "messages": []}
        reply = httpx.post(f"{url}/chat/completions", json=payload, timeout=10).json()
        assert reply["choices"][0]["message"]["content"] == "scripted!"
        recorded = httpx.get(url.replace("/v1", "/_requests"), timeout=10).json()
        assert recorded[0]["model"] == "m"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
