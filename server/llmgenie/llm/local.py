"""Local models: find a running Ollama and the models it has, and suggest one.

`detect_ollama()` asks Ollama's `/api/tags` with a short timeout (0.5 s by default) and
never raises: Ollama not running, not reachable or answering nonsense all mean "no Ollama".
It honours `OLLAMA_HOST` like the Ollama CLI does (`host`, `host:port` or a URL; a bind
address such as 0.0.0.0 is reached on 127.0.0.1).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DETECT_TIMEOUT_S = 0.5
# litellm's provider for Ollama's chat endpoint (tool calls, chat templates).
OLLAMA_PROVIDER = "ollama_chat"
# Preferred families for code work, best first; a name matching none ranks last.
_PREFERENCE = ("coder", "qwen", "llama3", "mistral", "gemma", "phi")


class LocalModel(BaseModel):
    """One model a local server offers."""

    name: str = Field(description="the server's name for it, e.g. qwen2.5-coder:1.5b")
    model: str = Field(description="the litellm model string, e.g. ollama_chat/qwen2.5-coder:1.5b")
    size_bytes: int | None = None
    parameter_size: str | None = None
    quantization: str | None = None


class OllamaStatus(BaseModel):
    """A running Ollama: where it answered and its models."""

    url: str
    models: list[LocalModel] = Field(default_factory=list)


def ollama_url(host: str | None = None) -> str:
    """The base URL for `host` (default: OLLAMA_HOST, else 127.0.0.1:11434)."""
    raw = (host if host is not None else os.environ.get("OLLAMA_HOST", "")).strip()
    if not raw:
        return DEFAULT_OLLAMA_URL
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    hostname = parts.hostname or "127.0.0.1"
    if hostname in ("0.0.0.0", "::", ""):
        hostname = "127.0.0.1"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    port = parts.port or 11434
    return f"{parts.scheme or 'http'}://{hostname}:{port}{parts.path.rstrip('/')}"


def detect_ollama(
    host: str | None = None, timeout_s: float = DETECT_TIMEOUT_S
) -> OllamaStatus | None:
    """The running Ollama and its models, or None (never raises, never waits long)."""
    url = ollama_url(host)
    try:
        response = httpx.get(f"{url}/api/tags", timeout=timeout_s)
        response.raise_for_status()
        entries = response.json().get("models") or []
        models = [_local_model(entry) for entry in entries if isinstance(entry, dict)]
    except Exception as exc:  # not running, refused, slow, not Ollama: all mean "none"
        log.debug("ollama_not_detected", url=url, error=f"{type(exc).__name__}: {exc}")
        return None
    return OllamaStatus(url=url, models=[m for m in models if m is not None])


def _local_model(entry: dict[str, object]) -> LocalModel | None:
    name = entry.get("name") or entry.get("model")
    if not isinstance(name, str) or not name:
        return None
    details = entry.get("details")
    info = details if isinstance(details, dict) else {}
    size = entry.get("size")
    return LocalModel(
        name=name,
        model=f"{OLLAMA_PROVIDER}/{name}",
        size_bytes=size if isinstance(size, int) else None,
        parameter_size=str(info["parameter_size"]) if info.get("parameter_size") else None,
        quantization=str(info["quantization_level"]) if info.get("quantization_level") else None,
    )


def suggest_model(models: list[LocalModel]) -> LocalModel | None:
    """The local model best suited to the crews: a coder model first, embeddings never."""
    usable = [m for m in models if "embed" not in m.name.lower()]
    if not usable:
        return None

    def rank(model: LocalModel) -> tuple[int, int]:
        name = model.name.lower()
        family = next((i for i, key in enumerate(_PREFERENCE) if key in name), len(_PREFERENCE))
        return family, -(model.size_bytes or 0)  # within a family, the larger model

    return min(usable, key=rank)
