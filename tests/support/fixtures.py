"""Pytest fixtures shared by every test suite (loaded via `pytest_plugins` in conftest).

- `model_server`: a started scripted OpenAI-compatible server (tests/support/model_server.py),
  stopped after the test; script replies with `model_server.script(Reply...)`.
- `scripted_llm_env`: `model_server` plus LLMGENIE_LLM__* env vars pointing litellm at it
  (model `openai/scripted-model`, api_base = the server, a dummy api key); returns the
  server. Subprocesses started by the test inherit the env.
- `scripted_settings`: a `Settings` object pointing at `model_server` (no env changes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmgenie.config import Settings
from tests.support.model_server import DEFAULT_MODEL, ModelServer

SCRIPTED_MODEL = f"openai/{DEFAULT_MODEL}"
DUMMY_API_KEY = "sk-test-scripted-0000"


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """A scripted model server on 127.0.0.1 (ephemeral port), stopped after the test."""
    server = ModelServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scripted_llm_env(model_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> ModelServer:
    """Point llmgenie's LLM settings (env vars) at the scripted server."""
    monkeypatch.setenv("LLMGENIE_LLM__MODEL", SCRIPTED_MODEL)
    monkeypatch.setenv("LLMGENIE_LLM__API_BASE", model_server.url)
    monkeypatch.setenv("LLMGENIE_LLM__API_KEY", DUMMY_API_KEY)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return model_server


@pytest.fixture
def scripted_settings(model_server: ModelServer) -> Settings:
    """Settings whose model chain is the scripted server (short timeouts, fast retries)."""
    return Settings(
        llm={  # type: ignore[arg-type]
            "model": SCRIPTED_MODEL,
            "api_base": model_server.url,
            "api_key": DUMMY_API_KEY,
            "timeout_s": 10.0,
            "max_retries": 1,
        }
    )
