"""Settings: defaults < user config file < workspace `llmgenie.toml` < `LLMGENIE_*` env vars.

Env vars use `__` for nesting: `LLMGENIE_LLM__MODEL=openai/gpt-4o-mini`,
`LLMGENIE_INDEX__MAX_FILE_BYTES=2097152`. An invalid value raises `ConfigError` naming the key.

Trust boundary: a workspace's `llmgenie.toml` comes with the repository, so it may not choose
where data and keys go (`WORKSPACE_RESTRICTED_KEYS`: models, API bases, keys, data and cache
directories, embedding endpoints, the team server) unless the user trusted that folder
(`trust_workspace`, kept outside the repository); ignored keys are named in one warning.
Even in a trusted workspace a key is only sent to the base it was configured with
(`Settings.credential`).
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

WORKSPACE_CONFIG_NAME = "llmgenie.toml"
TRUST_FILE_NAME = "trusted-workspaces.json"
# Settings that decide where code and keys are sent or where data is written: a workspace
# file may set them only when the user trusts that workspace.
WORKSPACE_RESTRICTED_KEYS = (
    "data_dir",
    "llm.model",
    "llm.fallbacks",
    "llm.api_base",
    "llm.api_key",
    "llm.agents",
    "llm.endpoints",
    "index.cache_dir",
    "index.embeddings",
    "index.embedding_model",
    "index.embedding_api_base",
    "index.chroma_url",
    "team.url",
    "team.token",
    "team.crews",
)
# Sent instead of a key that must not go to a workspace-chosen base: a non-empty value, so
# no provider client falls back to a key from the environment.
KEY_WITHHELD = "llmgenie-key-withheld"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_log = logging.getLogger("llmgenie.config")
_warned: set[str] = set()


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
    workers: int = Field(
        0, ge=0, le=256, description="parse processes; 0 = every core but one (2 on 2 cores)"
    )


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
    endpoints: dict[str, ModelEndpoint] = Field(
        default_factory=dict,
        description="api_base and key per model string or provider prefix ('anthropic')",
    )

    @model_validator(mode="after")
    def _key_from_file(self) -> LLMSettings:
        if self.api_key is None and self.api_key_file is not None:
            self.api_key = SecretStr(read_secret_file(self.api_key_file, "api_key_file"))
        return self


class ModelEndpoint(_Section):
    """Where one model (or every model of one provider) is served, and the key for it."""

    api_base: str | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = Field(None, description="a file holding the API key")

    @model_validator(mode="after")
    def _key_from_file(self) -> ModelEndpoint:
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

    log_level: LogLevel = "INFO"
    data_dir: Path | None = Field(None, description="agent data (runs, audit); user data dir")
    index: IndexSettings = Field(default_factory=IndexSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    team: TeamSettings = Field(default_factory=TeamSettings)
    permissions: dict[str, Any] = Field(default_factory=dict)

    # section -> (base, key) as the trusted workspace file set them (see `credential`)
    _workspace_credentials: dict[str, tuple[str | None, str | None]] = PrivateAttr(
        default_factory=dict
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("permissions")
    @classmethod
    def _strict_trusted(cls, value: dict[str, Any]) -> dict[str, Any]:
        trusted = value.get("trusted", True)
        if isinstance(trusted, str) and trusted.lower() in ("true", "false"):
            trusted = value["trusted"] = trusted.lower() == "true"  # from an env var
        if not isinstance(trusted, bool):
            raise ValueError(f"permissions.trusted must be true or false, got {trusted!r}")
        return value

    def endpoint_for(self, model: str) -> tuple[str | None, str | None]:
        """(api_base, key) to call `model` with. `llm.endpoints` names a model or a provider;
        otherwise `llm.api_base` and `llm.api_key` belong to the provider of `llm.model`
        and apply only to models of that provider: the others use their provider's own
        environment key (OPENAI_API_KEY, ANTHROPIC_API_KEY, …), never this one."""
        provider = model.split("/", 1)[0] if "/" in model else "openai"
        chosen = self.llm.endpoints.get(model) or self.llm.endpoints.get(provider)
        if chosen is not None:
            key = chosen.api_key.get_secret_value() if chosen.api_key is not None else None
            return chosen.api_base, key
        primary = self.llm.model or model
        own = primary.split("/", 1)[0] if "/" in primary else "openai"
        if provider != own:
            return None, None
        return self.llm.api_base, self.credential("llm", self.llm.api_base)

    def credential(self, section: Literal["llm", "team"], base: str | None) -> str | None:
        """The key of `section` to send to `base`. A key goes only to its own base: None
        for any other base (the provider's own env key may then apply), KEY_WITHHELD for a
        base a trusted workspace file chose without giving its own key (so no env key
        follows it there either)."""
        if section == "llm":
            secret, own_base = self.llm.api_key, self.llm.api_base
        else:
            secret, own_base = self.team.token, self.team.url
        key = secret.get_secret_value() if secret is not None else None
        workspace_bases = {b for b, _ in self._workspace_credentials.values() if b}
        if base is not None and base in workspace_bases:
            ws_base, ws_key = self._workspace_credentials.get(section, (None, None))
            own = ws_base == base and ws_key is not None and key == ws_key
            return key if own else KEY_WITHHELD
        return key if base == own_base else None

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


def trust_file_path() -> Path:
    """The per-user list of trusted workspace folders (next to the user config file)."""
    return user_config_path().parent / TRUST_FILE_NAME


def _trusted_folders() -> list[Path]:
    path = trust_file_path()
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Path(p) for p in data.get("workspaces", []) if isinstance(p, str)]
    except (ValueError, OSError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a valid trust list: {exc}") from exc


def is_trusted(workspace: Path) -> bool:
    """Whether the user trusted `workspace` (or a folder above it)."""
    target = workspace.expanduser().resolve()
    return any(target == p or p in target.parents for p in _trusted_folders())


def trust_workspace(workspace: Path, trusted: bool = True) -> Path:
    """Add (or remove) `workspace` in the user's trust list; returns the list's path."""
    target = workspace.expanduser().resolve()
    folders = [p for p in _trusted_folders() if p != target]
    if trusted:
        folders.append(target)
    path = trust_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"workspaces": [str(p) for p in folders]}, indent=2) + "\n")
    return path


def _pop_restricted(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`data` without the restricted keys, and the dotted names of those it had."""
    kept = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    removed: list[str] = []
    for dotted in WORKSPACE_RESTRICTED_KEYS:
        section, _, key = dotted.rpartition(".")
        table = kept.get(section) if section else kept
        if isinstance(table, dict) and key in table:
            del table[key]
            removed.append(dotted)
    return kept, removed


def _workspace_credentials(
    data: dict[str, Any], users: dict[str, Any]
) -> dict[str, tuple[str | None, str | None]]:
    """The API bases a workspace file chose (not ones the user set too, in `users` or the
    environment), each with the key that file gave it (if any)."""
    creds: dict[str, tuple[str | None, str | None]] = {}
    for section, base_key, key_key in (
        ("llm", "api_base", "api_key"),
        ("team", "url", "token"),
        ("index", "embedding_api_base", ""),
    ):
        table, mine = data.get(section), users.get(section)
        if not (isinstance(table, dict) and isinstance(table.get(base_key), str)):
            continue
        env_base = os.environ.get(f"LLMGENIE_{section.upper()}__{base_key.upper()}")
        user_base = mine.get(base_key) if isinstance(mine, dict) else None
        if table[base_key] not in (env_base, user_base):
            key = table.get(key_key) if key_key else None
            creds[section] = (table[base_key], key if isinstance(key, str) else None)
    return creds


def _undecodable_env() -> list[str]:
    """LLMGENIE_* variables for list or table settings whose value is not JSON."""
    bad: list[str] = []
    for name, value in sorted(os.environ.items()):
        parts = name.lower().removeprefix("llmgenie_").split("__")
        if not name.startswith("LLMGENIE_") or len(parts) > 2:
            continue
        model: type[BaseModel] = Settings
        if len(parts) == 2:
            section = Settings.model_fields.get(parts[0])
            annotation = section.annotation if section else None
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                continue
            model = annotation
        field = model.model_fields.get(parts[-1])
        origin = getattr(field.annotation, "__origin__", None) if field else None
        if origin in (list, dict):
            try:
                json.loads(value)
            except ValueError:
                bad.append(name)
    return bad


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        _log.warning(message)


def load_settings(
    workspace: Path | None = None, *, trusted: bool | None = None, **overrides: Any
) -> Settings:
    """Load settings for `workspace`, layering the sources; raise ConfigError on a bad key.

    `trusted` says whether the workspace's own file may set `WORKSPACE_RESTRICTED_KEYS`
    (None: look the folder up in the user's trust list).
    """
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(user_config_path()), _read_toml(user_config_path()))
    ]
    ws_creds: dict[str, tuple[str | None, str | None]] = {}
    if workspace is not None:
        ws_file = workspace / WORKSPACE_CONFIG_NAME
        ws_data = _read_toml(ws_file)
        if trusted is None and ws_data:
            trusted = is_trusted(workspace)
        if trusted:
            ws_creds = _workspace_credentials(ws_data, _deep_merge(layers[0][1], overrides))
        else:
            ws_data, removed = _pop_restricted(ws_data)
            if removed:
                _warn_once(
                    f"{ws_file}: ignored {', '.join(removed)}: a workspace may not choose "
                    "models, endpoints, keys or data directories unless you trust it "
                    f"(llmgenie trust {workspace})"
                )
        layers.append((str(ws_file), ws_data))
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _deep_merge(merged, data)
    merged = _deep_merge(merged, overrides)
    sources = ", ".join(name for name, data in layers if data) or "defaults"
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"invalid setting '{key}': {err['msg']} (from {sources} or LLMGENIE_* env)"
        ) from exc
    except SettingsError as exc:
        # pydantic-settings could not decode an env var: a list or table must be JSON.
        names = ", ".join(_undecodable_env()) or "an LLMGENIE_* variable"
        raise ConfigError(
            f"invalid environment override {names}: a list or table is written as JSON, "
            """e.g. LLMGENIE_LLM__FALLBACKS='["openai/a", "openai/b"]'"""
        ) from exc
    settings._workspace_credentials = ws_creds
    return settings
