"""Local model detection and `llmgenie model list`, against a real HTTP server that answers
like Ollama's `/api/tags` (and one that never answers)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.llm.local import detect_ollama, ollama_url, suggest_model
from tests.support.fake_ollama import serve_ollama


@pytest.fixture
def ollama() -> Iterator[str]:
    yield from serve_ollama(0.0)


@pytest.fixture
def silent_ollama() -> Iterator[str]:
    yield from serve_ollama(30.0)


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


OFFER = (
    "with qwen2.5-coder:1.5b: set LLMGENIE_LLM__MODEL=ollama_chat/qwen2.5-coder:1.5b "
    "(or llm.model in llmgenie.toml) to use it"
)


def _cli(args: list[str], tmp_path: Path, ollama: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a clean environment: no model configured, Ollama at `ollama`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMGENIE_LLM__")}
    env.update(
        OLLAMA_HOST=ollama,
        LLMGENIE_CACHE_DIR=str(tmp_path / "cache"),
        LLMGENIE_DATA_DIR=str(tmp_path / "data"),
        LLMGENIE_CONFIG_FILE=str(tmp_path / "config.toml"),
    )
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_doctor_offers_the_running_ollama_when_no_model_is_configured(
    ollama: str, tmp_path: Path
) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    result = _cli(["doctor", str(tmp_path / "ws")], tmp_path, ollama)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "model:       none configured" in result.stdout
    assert f"Ollama is running at http://{ollama} {OFFER}" in result.stdout


def test_a_run_without_a_model_names_the_running_ollama(ollama: str, tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    result = _cli(["run", "explain", str(tmp_path / "ws"), "--file", "app.py"], tmp_path, ollama)

    assert result.returncode == 2
    assert "No model configured" in result.stderr
    assert OFFER in " ".join(result.stderr.split())
