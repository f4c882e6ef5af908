"""Knobs for model calls that matter most with slow or small models, read from the
environment (`LLMGENIE_MODEL_*`), one source of truth for their names and defaults.

- `LLMGENIE_MODEL_MAX_TOKENS`: output-token limit for every call (default: sized per crew).
- `LLMGENIE_MODEL_FIRST_TOKEN_TIMEOUT_S`: how long to wait for the first token (default:
  `llm.timeout_s`, or `LLMGENIE_MODEL_LOCAL_FIRST_TOKEN_TIMEOUT_S` for local providers, whose
  cold prompts take tens of seconds on a small CPU).
- `LLMGENIE_MODEL_IDLE_TIMEOUT_S`: how long a started answer may go silent (default:
  `llm.timeout_s`).
- `LLMGENIE_MODEL_JSON_MODE`: `auto` (default) asks for the provider's JSON mode
  (`response_format: json_object`) on calls whose final answer is JSON when litellm says the
  provider has one; `on` always asks, `off` never.
- `LLMGENIE_MODEL_TOOL_PROTOCOL`: `auto` (default) uses native function calling unless
  litellm knows the model lacks it; `text` describes the tools in the system prompt and
  reads `<tool_call>{...}</tool_call>` from the answer (for models whose native calling is
  unreliable); `native` always sends `tools`.
- `LLMGENIE_MODEL_CONTEXT_WINDOW`: the model's context window in tokens (default: litellm's
  `max_input_tokens`; unknown local models 8192); briefings and tool outputs are trimmed
  to fit it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError

ENV_PREFIX = "LLMGENIE_MODEL_"
DEFAULT_MAX_TOKENS = 2048
LOCAL_FIRST_TOKEN_TIMEOUT_S = 300.0
# litellm provider prefixes that run on the user's machine.
LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "llamafile", "lm_studio"})
# Below this no briefing fits at all; a smaller setting is a typo.
MIN_CONTEXT_WINDOW = 1024

JsonMode = Literal["auto", "on", "off"]
ToolProtocol = Literal["auto", "native", "text"]


class InvalidModelOption(ValueError):
    """An `LLMGENIE_MODEL_*` variable has a value that is not allowed; names the variable."""


class ModelOptions(BaseModel):
    """Per-call limits; None means "the default" (see the module docstring)."""

    max_tokens: int | None = Field(None, gt=0)
    first_token_timeout_s: float | None = Field(None, gt=0)
    idle_timeout_s: float | None = Field(None, gt=0)
    local_first_token_timeout_s: float = Field(LOCAL_FIRST_TOKEN_TIMEOUT_S, gt=0)
    json_mode: JsonMode = "auto"
    tool_protocol: ToolProtocol = "auto"
    context_window: int | None = Field(None, ge=MIN_CONTEXT_WINDOW)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ModelOptions:
        """The options set in `environ` (the process environment by default)."""
        env = os.environ if environ is None else environ
        values = {
            name: env[ENV_PREFIX + name.upper()].strip()
            for name in cls.model_fields
            if env.get(ENV_PREFIX + name.upper(), "").strip()
        }
        for name in ("json_mode", "tool_protocol"):
            if name in values:
                values[name] = values[name].lower()
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ENV_PREFIX + str(first["loc"][0]).upper()
            raise InvalidModelOption(
                f"{name}={values.get(str(first['loc'][0]))!r}: {first['msg']}"
            ) from exc


def is_local_model(model: str) -> bool:
    """Whether the litellm model string names a provider that runs locally (Ollama, ...)."""
    provider, sep, _ = model.partition("/")
    return bool(sep) and provider in LOCAL_PROVIDERS


def is_loopback_url(url: str | None) -> bool:
    """Whether `url` points at this machine (a local server such as `llmgenie model serve`)."""
    if not url:
        return False
    host = (urlsplit(url if "://" in url else "http://" + url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
