"""Settings: defaults < user config file < workspace `llmgenie.toml` < `LLMGENIE_*` env vars.

Env vars use `__` for nesting: `LLMGENIE_LLM__MODEL=openai/gpt-4o-mini`,
`LLMGENIE_INDEX__MAX_FILE_BYTES=2097152`. An invalid value raises `ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

WORKSPACE_CONFIG_NAME = "llmgenie.toml"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and where it came from."""


def read_secret_file(path: Path, setting: str) -> str:
    """A secret mounted as a file (a Kubernetes Secret, a Docker secret), stripped."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{setting} {path}: {exc.strerror or exc}") from exc


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    """How the workspace is discovered, parsed and indexed."""

    max_file_bytes: int = Field(1_048_576, gt=0)
    ignore: list[str] = Field(default_factory=list, description="extra gitignore-style globs")
    chunk_max_lines: int = Field(60, ge=5)
    embeddings: Literal["auto", "local", "ollama", "litellm", "none"] = "auto"
    embedding_model: str = ""
    embedding_max_tokens: int = Field(128, ge=8, le=512, description="local model truncation")
    embedding_precision: Literal["int8", "fp32"] = "int8"
    embedding_api_base: str | None = Field(None, description="Ollama / OpenAI-compatible URL")
    chroma_url: str | None = None
    cache_dir: Path | None = None
    debounce_ms: int = Field(150, ge=0)


class LLMSettings(_Section):
    """Model routing for the agents (any litellm model string)."""

    model: str = ""
    fallbacks: list[str] = Field(default_factory=list)
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = Field(None, description="a file holding the API key")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)
    budget_tokens: int | None = Field(None, gt=0)
    budget_usd: float | None = Field(None, gt=0)
    agents: dict[str, str] = Field(default_factory=dict, description="per-agent model override")

    @model_validator(mode="after")
    def _key_from_file(self) -> LLMSettings:
        if self.api_key is None and self.api_key_file is not None:
            self.api_key = SecretStr(read_secret_file(self.api_key_file, "api_key_file"))
        return self


class TeamSettings(_Section):
    """Optional team server the heavy crews can be delegated to."""

    url: str | None = None
    token: SecretStr | None = None
    crews: list[str] = Field(
        default_factory=list, description="crews that always run on the team server"
    )


class Settings(BaseSettings):
    """All of llmgenie's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="LLMGENIE_", env_nested_delimiter="__", extra="forbid"
    )

    log_level: str = "INFO"
    data_dir: Path | None = Field(None, description="agent data (runs, audit); user data dir")
    index: IndexSettings = Field(default_factory=IndexSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    team: TeamSettings = Field(default_factory=TeamSettings)
    permissions: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: env vars override the merged config files passed as init kwargs.
        return (env_settings, init_settings)


def user_config_path() -> Path:
    """The per-user config file (overridable with LLMGENIE_CONFIG_FILE for tests)."""
    override = os.environ.get("LLMGENIE_CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("llmgenie")) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(workspace: Path | None = None, **overrides: Any) -> Settings:
    """Load settings for `workspace`, layering the sources; raise ConfigError on a bad key."""
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(user_config_path()), _read_toml(user_config_path()))
    ]
    if workspace is not None:
        ws_file = workspace / WORKSPACE_CONFIG_NAME
        layers.append((str(ws_file), _read_toml(ws_file)))
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _deep_merge(merged, data)
    merged = _deep_merge(merged, overrides)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        sources = ", ".join(name for name, data in layers if data) or "defaults"
        raise ConfigError(
            f"invalid setting '{key}': {err['msg']} (from {sources} or LLMGENIE_* env)"
        ) from exc
