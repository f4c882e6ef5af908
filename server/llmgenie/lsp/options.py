"""initializationOptions from the editor, and how they override Settings for one session.

The options are never written to disk. They win over every other source, including
`LLMGENIE_*` env vars, because they are what the user set in the editor for this session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmgenie.config import (
    ConfigError,
    IndexSettings,
    LLMSettings,
    Settings,
    TeamSettings,
    load_settings,
)
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)


class InitOptions(BaseModel):
    """The documented initializationOptions (unknown keys are ignored with a warning)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model: str | None = None
    fallbacks: list[str] | None = None
    api_base: str | None = Field(None, alias="apiBase")
    api_key: str | None = Field(None, alias="apiKey")
    agent_models: dict[str, str] | None = Field(None, alias="agentModels")
    embeddings: str | None = None
    ignore: list[str] | None = None
    max_file_bytes: int | None = Field(None, alias="maxFileBytes")
    team_server_url: str | None = Field(None, alias="teamServerUrl")
    team_token: str | None = Field(None, alias="teamToken")
    workspace_trusted: bool | None = Field(
        None, alias="workspaceTrusted", description="the editor's workspace trust"
    )


_KNOWN_KEYS = {
    "model", "fallbacks", "apiBase", "apiKey", "agentModels", "embeddings", "ignore",
    "maxFileBytes", "teamServerUrl", "teamToken", "workspaceTrusted",
}  # fmt: skip


def parse_init_options(raw: Any) -> tuple[InitOptions, list[str]]:
    """Validate the options field by field; a bad field is dropped and reported, never fatal."""
    if raw is None:
        return InitOptions(), []
    if not isinstance(raw, dict):
        return InitOptions(), ["initializationOptions must be an object; ignored"]
    problems = [
        f"unknown initializationOptions key '{k}' ignored" for k in raw if k not in _KNOWN_KEYS
    ]
    good: dict[str, Any] = {}
    for key in _KNOWN_KEYS & raw.keys():
        try:
            InitOptions.model_validate({key: raw[key]})
        except ValidationError as exc:
            problems.append(f"initializationOptions.{key}: {exc.errors()[0]['msg']}; ignored")
        else:
            good[key] = raw[key]
    return InitOptions.model_validate(good), problems


def _section_overrides(opts: InitOptions) -> dict[str, dict[str, Any]]:
    llm: dict[str, Any] = {}
    index: dict[str, Any] = {}
    team: dict[str, Any] = {}
    if opts.model is not None:
        llm["model"] = opts.model
    if opts.fallbacks is not None:
        llm["fallbacks"] = opts.fallbacks
    if opts.api_base is not None:
        llm["api_base"] = opts.api_base or None
    if opts.api_key is not None:
        llm["api_key"] = opts.api_key or None
    if opts.agent_models is not None:
        llm["agents"] = opts.agent_models
    if opts.embeddings is not None:
        index["embeddings"] = opts.embeddings
    if opts.ignore is not None:
        index["ignore"] = opts.ignore
    if opts.max_file_bytes is not None:
        index["max_file_bytes"] = opts.max_file_bytes
    if opts.team_server_url is not None:
        team["url"] = opts.team_server_url or None
    if opts.team_token is not None:
        team["token"] = opts.team_token or None
    return {"llm": llm, "index": index, "team": team}


def apply_options(settings: Settings, opts: InitOptions) -> tuple[Settings, list[str]]:
    """Overlay the options on `settings`, section by section, validating each section."""
    problems: list[str] = []
    sections: dict[str, type[LLMSettings | IndexSettings | TeamSettings]] = {
        "llm": LLMSettings,
        "index": IndexSettings,
        "team": TeamSettings,
    }
    update: dict[str, Any] = {}
    for name, over in _section_overrides(opts).items():
        if not over:
            continue
        current = getattr(settings, name)
        try:
            update[name] = sections[name].model_validate({**current.model_dump(), **over})
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            problems.append(f"initializationOptions for {name}.{key}: {err['msg']}; ignored")
    return settings.model_copy(update=update), problems


def session_settings(root: Path | None, opts: InitOptions) -> tuple[Settings, list[str]]:
    """Settings for a workspace folder (or none) with the session options applied."""
    problems: list[str] = []
    try:
        # The editor's workspace trust decides whether the folder's own llmgenie.toml may
        # choose models, bases and keys; without it, the user's trust list does.
        base = load_settings(root, trusted=opts.workspace_trusted)
    except ConfigError as exc:
        problems.append(f"{exc}; using defaults")
        try:
            base = load_settings(None)
        except ConfigError:
            base = Settings.model_construct()
    settings, more = apply_options(base, opts)
    for problem in problems + more:
        _log.warning("settings_invalid", problem=problem)
    return settings, problems + more
