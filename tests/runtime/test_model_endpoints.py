"""Keys and API bases per model: with two scripted providers that record what they receive,
each model of a fallback chain is called at its own base with its own key, and a key never
reaches another provider (issue: one apiKey/apiBase used to go to every model)."""

from __future__ import annotations

import pytest

from llmgenie.config import Settings
from llmgenie.llm.client import ModelClient
from tests.support.model_server import ModelServer, Reply

KEY_A, KEY_B = "sk-primary-" + "a" * 24, "sk-backup-" + "b" * 24
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def backup_server() -> ModelServer:
    server = ModelServer().start()
    yield server  # type: ignore[misc]
    server.stop()


def test_each_model_gets_its_own_base_and_key(
    model_server: ModelServer, backup_server: ModelServer
) -> None:
    settings = Settings(
        llm={
            "model": "openai/primary",
            "api_base": model_server.url,
            "api_key": KEY_A,
            "max_retries": 0,
            "fallbacks": ["hosted_vllm/backup"],
            "endpoints": {"hosted_vllm": {"api_base": backup_server.url, "api_key": KEY_B}},
        }
    )
    model_server.script(Reply.error(503), model="primary")
    backup_server.script(Reply.plain("answer from the backup"), model="backup")
    completion = ModelClient.from_settings(settings).complete(HELLO)
    assert completion.text == "answer from the backup"
    [primary] = model_server.chat_requests()
    [backup] = backup_server.chat_requests()
    assert primary.headers.get("Authorization") == f"Bearer {KEY_A}"
    assert backup.headers.get("Authorization") == f"Bearer {KEY_B}"
    assert KEY_A not in str(backup.headers) and KEY_B not in str(primary.headers)


def test_the_top_level_key_belongs_to_the_primary_provider_only() -> None:
    settings = Settings(
        llm={
            "model": "openai/gpt-4o-mini",
            "api_key": "sk-openai-" + "c" * 24,
            "fallbacks": ["openai/gpt-4o", "anthropic/claude-3-5-haiku-latest", "ollama/llama3.1"],
            "endpoints": {"ollama/llama3.1": {"api_base": "http://gpu-box:11434"}},
        }
    )
    assert settings.endpoint_for("openai/gpt-4o")[1] == "sk-openai-" + "c" * 24
    assert settings.endpoint_for("anthropic/claude-3-5-haiku-latest") == (None, None)
    assert settings.endpoint_for("ollama/llama3.1") == ("http://gpu-box:11434", None)
