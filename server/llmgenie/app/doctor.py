"""`doctor`: the whole setup in one report, and nothing created while looking.

Python and llmgenie, which configuration files exist and which source each setting that
matters came from, the models with whether a key is there for each provider, where the
index and the agent data live, and what is degraded and why. The index is only read if it
exists: running doctor on a random directory leaves no trace there.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llmgenie import __version__
from llmgenie.config import WORKSPACE_CONFIG_NAME, Settings, user_config_path
from llmgenie.contracts.index import IndexHealth
from llmgenie.locations import locations_for

# Settings whose origin people ask about (the rest are tuning knobs).
TRACKED = (
    "llm.model",
    "llm.fallbacks",
    "llm.api_base",
    "llm.api_key",
    "index.embeddings",
    "index.cache_dir",
    "data_dir",
    "team.url",
)
SECRET = {"llm.api_key", "team.token"}
# The key each provider reads from the environment (litellm's names); none: local servers.
PROVIDER_KEYS: dict[str, str | None] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "vertex_ai": None,
    "azure": "AZURE_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "ollama": None,
    "ollama_chat": None,
    "lm_studio": None,
    "hosted_vllm": None,
}


class SettingSource(BaseModel):
    """One setting: its effective value (secrets only as "set") and where it came from."""

    key: str
    value: Any
    source: str = Field(description="env LLMGENIE_…, a config file's path, or default")


class ModelCheck(BaseModel):
    model: str
    provider: str
    key: str = Field(description="where its key comes from, 'not needed', or 'missing (…)'")
    ok: bool


class SetupReport(BaseModel):
    """Everything `llmgenie doctor` reports."""

    llmgenie: str
    python: str
    python_executable: str
    platform: str
    root: str
    config_files: dict[str, bool] = Field(description="path → exists")
    settings: list[SettingSource]
    models: list[ModelCheck]
    index_path: str
    index_exists: bool
    agent_data_path: str
    health: IndexHealth | None = None
    degraded: list[str] = Field(default_factory=list)


def _lookup(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _effective(settings: Settings, dotted: str) -> Any:
    value: Any = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    if dotted in SECRET:
        return "set" if value is not None else None
    return str(value) if isinstance(value, Path) else value


def _source(dotted: str, files: list[tuple[Path, dict[str, Any]]]) -> str:
    """The highest source that sets `dotted` (env beats the workspace file beats the user's)."""
    env = "LLMGENIE_" + dotted.upper().replace(".", "__")
    if env in os.environ:
        return f"env {env}"
    for path, data in reversed(files):
        if _lookup(data, dotted)[0]:
            return str(path)
    return "default"


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def check_models(settings: Settings, chain: list[str]) -> list[ModelCheck]:
    """For each model of the chain: is there a key for its provider?"""
    out: list[ModelCheck] = []
    for model in chain:
        provider = model.split("/", 1)[0] if "/" in model else "openai"
        env = PROVIDER_KEYS.get(provider, f"{provider.upper()}_API_KEY")
        base, configured = settings.endpoint_for(model)
        if configured:
            key, ok = "configured (llm.api_key or llm.endpoints), sent only to this model", True
        elif env is None:
            key, ok = "not needed (local server)", True
        elif os.environ.get(env):
            key, ok = f"env {env}", True
        elif base:
            key, ok = f"none (an OpenAI-compatible server at {base})", True
        else:
            key, ok = f"missing (set {env} or llm.api_key)", False
        out.append(ModelCheck(model=model, provider=provider, key=key, ok=ok))
    return out


def diagnose(root: Path, settings: Settings, chain: list[str]) -> SetupReport:
    """The setup report for `root` (reads an existing index; creates nothing)."""
    from llmgenie.engine import WorkspaceEngine

    user_file, ws_file = user_config_path(), root / WORKSPACE_CONFIG_NAME
    files = [(p, _read(p)) for p in (user_file, ws_file) if p.is_file()]
    where = locations_for(root, settings)
    report = SetupReport(
        llmgenie=__version__,
        python=platform.python_version(),
        python_executable=sys.executable,
        platform=platform.platform(terse=True),
        root=str(root),
        config_files={str(user_file): user_file.is_file(), str(ws_file): ws_file.is_file()},
        settings=[
            SettingSource(key=k, value=_effective(settings, k), source=_source(k, files))
            for k in TRACKED
        ],
        models=check_models(settings, chain),
        index_path=str(where.index_dir),
        index_exists=where.index_dir.is_dir(),
        agent_data_path=str(where.agent_dir),
    )
    if not chain:
        report.degraded.append("agents: no model configured (set llm.model or pick one)")
    report.degraded += [f"model {m.model}: key {m.key}" for m in report.models if not m.ok]
    if report.index_exists:
        with WorkspaceEngine.open(root, settings) as engine:
            report.health = engine.health(check_stale=True)
        report.degraded += list(report.health.degraded)
    else:
        report.degraded.append(f"search: not indexed yet (run `llmgenie index {root}`)")
    return report
