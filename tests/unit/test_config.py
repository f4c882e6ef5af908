"""Configuration layering and error reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _isolated_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    user_file = tmp_path / "user-config.toml"
    monkeypatch.setenv("LLMGENIE_CONFIG_FILE", str(user_file))
    for key in list(__import__("os").environ):
        if key.startswith("LLMGENIE_") and key != "LLMGENIE_CONFIG_FILE":
            monkeypatch.delenv(key)
    return user_file


def test_defaults_apply_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.index.max_file_bytes == 1_048_576
    assert settings.llm.model == ""


def test_layers_override_in_order(
    tmp_path: Path, _isolated_user_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _isolated_user_config.write_text(
        '[llm]\nmodel = "openai/user"\ntimeout_s = 5\n[index]\nchunk_max_lines = 40\n'
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "llmgenie.toml").write_text('[llm]\nmodel = "openai/workspace"\n')
    assert load_settings(ws).llm.model == "openai/workspace"
    assert load_settings(ws).llm.timeout_s == 5  # user file still applies beneath
    assert load_settings(ws).index.chunk_max_lines == 40
    monkeypatch.setenv("LLMGENIE_LLM__MODEL", "openai/env")
    assert load_settings(ws).llm.model == "openai/env"


def test_invalid_value_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "llmgenie.toml").write_text("[index]\nmax_file_bytes = -3\n")
    with pytest.raises(ConfigError, match=r"index\.max_file_bytes"):
        load_settings(tmp_path)


def test_unknown_key_is_rejected_by_name(tmp_path: Path) -> None:
    (tmp_path / "llmgenie.toml").write_text("[index]\nmax_fil_bytes = 3\n")
    with pytest.raises(ConfigError, match=r"index\.max_fil_bytes"):
        load_settings(tmp_path)


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "llmgenie.toml").write_text("[index\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_bad_env_value_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMGENIE_INDEX__MAX_FILE_BYTES", "lots")
    with pytest.raises(ConfigError, match=r"index\.max_file_bytes"):
        load_settings(tmp_path)
