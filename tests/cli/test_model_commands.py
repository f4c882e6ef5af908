"""Local model detection and `llmgenie model list`, against a real HTTP server that answers
like Ollama's `/api/tags` (and one that never answers)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmgenie.llm.local import detect_ollama, ollama_url, suggest_model

TAGS = {
    "models": [
        {"name": "llama3.2:3b", "size": 2_000_000_000, "details": {"parameter_size": "3.2B"}},
        {"name": "nomic-embed-text:latest", "size": 270_000_000},
        {
            "name": "qwen2.5-coder:1.5b",
            "size": 986_000_000,
            "details": {"parameter_size": "1.5B", "quantization_level": "Q4_K_M"},
        },
    ]
}


def _serve(delay: float) -> Iterator[str]:
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            stop.wait(delay)
            body = json.dumps(TAGS if self.path == "/api/tags" else {}).encode()
            self.send_response(200 if self.path == "/api/tags" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def ollama() -> Iterator[str]:
    yield from _serve(0.0)


@pytest.fixture
def silent_ollama() -> Iterator[str]:
    yield from _serve(30.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_running_ollama_is_found_with_its_models_and_a_coder_suggested(ollama: str) -> None:
    status = detect_ollama(ollama)
    assert status is not None and status.url == f"http://{ollama}"
    assert [m.model for m in status.models] == [
        "ollama_chat/llama3.2:3b",
        "ollama_chat/nomic-embed-text:latest",
        "ollama_chat/qwen2.5-coder:1.5b",
    ]
    suggested = suggest_model(status.models)
    assert suggested is not None and suggested.model == "ollama_chat/qwen2.5-coder:1.5b"
    assert suggested.quantization == "Q4_K_M"


def test_no_ollama_is_none_quickly_never_an_error(silent_ollama: str) -> None:
    for host in (f"127.0.0.1:{_free_port()}", silent_ollama):
        started = time.monotonic()
        assert detect_ollama(host) is None
        assert time.monotonic() - started < 2.0


def test_ollama_host_is_read_like_the_ollama_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:12345")
    assert ollama_url() == "http://127.0.0.1:12345"
    assert ollama_url("https://gpu-box") == "https://gpu-box:11434"
    monkeypatch.delenv("OLLAMA_HOST")
    assert ollama_url() == "http://127.0.0.1:11434"


def test_model_list_json_shows_the_chain_and_the_local_models(ollama: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMGENIE_LLM__")}
    env["OLLAMA_HOST"] = ollama
    result = subprocess.run(
        [sys.executable, "-m", "llmgenie", "model", "list", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    listed = json.loads(result.stdout)
    assert listed["configured"] == []
    assert listed["ollama"]["running"] is True
    assert len(listed["ollama"]["models"]) == 3
    assert listed["suggested"] == "ollama_chat/qwen2.5-coder:1.5b"
