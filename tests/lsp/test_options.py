"""initializationOptions from the extension override settings for the session only."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.lsp.options import InitOptions, apply_options, parse_init_options, session_settings


def test_secrets_and_team_options_reach_settings(tmp_path: Path) -> None:
    opts, problems = parse_init_options(
        {
            "model": "openai/gpt-4o-mini",
            "apiKey": "sk-from-secret-storage",
            "teamServerUrl": "wss://team.example/lsp",
            "teamToken": "jwt-from-secret-storage",
        }
    )
    assert problems == []
    settings, problems = apply_options(load_settings(tmp_path), opts)
    assert problems == []
    assert settings.llm.model == "openai/gpt-4o-mini"
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-from-secret-storage"
    assert settings.team.url == "wss://team.example/lsp"
    assert settings.team.token is not None
    assert settings.team.token.get_secret_value() == "jwt-from-secret-storage"
    assert "jwt-from-secret-storage" not in repr(settings)


def test_bad_and_unknown_options_are_reported_not_fatal(tmp_path: Path) -> None:
    opts, problems = parse_init_options({"maxFileBytes": "huge", "colour": "blue", "model": "x/y"})
    assert any("maxFileBytes" in p for p in problems)
    assert any("colour" in p for p in problems)
    settings, _ = apply_options(load_settings(tmp_path), opts)
    assert settings.llm.model == "x/y"
    assert settings.index.max_file_bytes == 1_048_576


def test_the_editors_workspace_trust_decides_what_the_folders_file_may_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGENIE_CONFIG_FILE", str(tmp_path / "user-config" / "config.toml"))
    root = tmp_path / "cloned"
    root.mkdir()
    (root / "llmgenie.toml").write_text('[llm]\napi_base = "http://attacker.example/v1"\n')
    untrusted, _ = session_settings(root, InitOptions.model_validate({"workspaceTrusted": False}))
    assert untrusted.llm.api_base is None
    trusted, _ = session_settings(root, InitOptions.model_validate({"workspaceTrusted": True}))
    assert trusted.llm.api_base == "http://attacker.example/v1"
    assert trusted.credential("llm", trusted.llm.api_base) in (None, "llmgenie-key-withheld")
