"""What a model can do, as litellm knows it: native tools, JSON mode, context window.

Each answer is cached per model (litellm's lookups walk its model map) and never raises:
a model litellm does not know gets the answer that works for most custom deployments
(native tools, JSON mode if its provider has one), and a context window of
`UNKNOWN_LOCAL_WINDOW` when it runs locally (a provider such as Ollama, or a server on
this machine), `UNKNOWN_HOSTED_WINDOW` otherwise.
"""

from __future__ import annotations

from functools import lru_cache

from llmgenie.litellm_setup import load_litellm
from llmgenie.llm.options import is_local_model, is_loopback_url

UNKNOWN_LOCAL_WINDOW = 8192
UNKNOWN_HOSTED_WINDOW = 128_000


@lru_cache(maxsize=256)
def _model_info(model: str) -> dict[str, object]:
    try:
        info = load_litellm().get_model_info(model)
    except Exception:  # not in litellm's map: a custom or local deployment
        return {}
    return dict(info) if info else {}


def _provider(model: str, api_base: str | None) -> str:
    try:
        return str(load_litellm().get_llm_provider(model, api_base=api_base)[1])
    except Exception:
        return model.partition("/")[0] if "/" in model else ""


def supports_native_tools(model: str) -> bool:
    """False only for models litellm knows to lack function calling (e.g. ollama/llama2)."""
    return bool(_model_info(model).get("supports_function_calling", True))


@lru_cache(maxsize=256)
def supports_json_mode(model: str, api_base: str | None = None) -> bool:
    """Whether the model's provider accepts `response_format` (JSON mode), per litellm."""
    provider = _provider(model, api_base)
    try:
        params = load_litellm().get_supported_openai_params(
            model=model.partition("/")[2] or model, custom_llm_provider=provider
        )
    except Exception:
        return False
    return bool(params) and "response_format" in params


def runs_locally(model: str, api_base: str | None = None) -> bool:
    """A local provider, or any provider reached on this machine's loopback address."""
    return is_local_model(model) or is_loopback_url(api_base)


def context_window(model: str, api_base: str | None = None, override: int | None = None) -> int:
    """The model's input window in tokens: `override`, litellm's figure, or a default."""
    if override:
        return override
    info = _model_info(model)
    for key in ("max_input_tokens", "max_tokens"):
        value = info.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return UNKNOWN_LOCAL_WINDOW if runs_locally(model, api_base) else UNKNOWN_HOSTED_WINDOW
