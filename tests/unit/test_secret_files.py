"""Secrets mounted as files (`*_FILE` settings): the Redis and broker URLs of the team
server and workers, and the model API key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmgenie.config import ConfigError, load_settings
from llmgenie.remote.settings import load_team_settings


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMGENIE_CONFIG_FILE", str(tmp_path / "user-config.toml"))
    for key in list(os.environ):
        if key.startswith("LLMGENIE_") and key != "LLMGENIE_CONFIG_FILE":
            monkeypatch.delenv(key)


def _secret(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n", encoding="utf-8")  # as `kubectl create secret` leaves it
    return path


def test_the_redis_and_broker_urls_come_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = _secret(tmp_path, "redis-url", "redis://:pw@redis:6379/0")
    broker = _secret(tmp_path, "broker-url", "amqp://u:pw@rabbitmq:5672//")
    monkeypatch.setenv("LLMGENIE_TEAM_REDIS_URL_FILE", str(redis))
    monkeypatch.setenv("LLMGENIE_TEAM_BROKER_URL_FILE", str(broker))
    team, _ = load_team_settings()
    assert team.redis_url == "redis://:pw@redis:6379/0"
    assert team.broker_url == "amqp://u:pw@rabbitmq:5672//"


def test_a_variable_wins_over_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMGENIE_TEAM_REDIS_URL", "redis://env:6379/1")
    monkeypatch.setenv(
        "LLMGENIE_TEAM_REDIS_URL_FILE", str(_secret(tmp_path, "r", "redis://file:6379/2"))
    )
    team, _ = load_team_settings()
    assert team.redis_url == "redis://env:6379/1"


def test_a_missing_secret_file_is_a_config_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGENIE_TEAM_BROKER_URL_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="broker_url_file"):
        load_team_settings()


def test_the_model_api_key_comes_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "LLMGENIE_LLM__API_KEY_FILE", str(_secret(tmp_path, "llm-api-key", "sk-from-file"))
    )
    key = load_settings().llm.api_key
    assert key is not None and key.get_secret_value() == "sk-from-file"
    monkeypatch.setenv("LLMGENIE_LLM__API_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="api_key_file"):
        load_settings()
