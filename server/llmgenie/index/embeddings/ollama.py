"""Embeddings from an Ollama server (`POST /api/embed`), e.g. nomic-embed-text."""

from __future__ import annotations

import os

import httpx
import numpy as np
import numpy.typing as npt

from llmgenie.index.embeddings.base import EmbeddingUnavailable
from llmgenie.index.embeddings.normalize import unit_rows

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 120.0  # the first call may load the model into memory
BATCH = 64


def default_base_url() -> str:
    """OLLAMA_HOST as Ollama itself reads it (host:port or URL), else the local default."""
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return DEFAULT_OLLAMA_URL
    return host if "://" in host else f"http://{host}"


class OllamaProvider:
    """EmbeddingProvider backed by Ollama; the dimension is learned from the first answer."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        known_dim: int | None = None,
    ) -> None:
        if not model:
            raise ValueError("an Ollama embedding model name is required (index.embedding_model)")
        self._model = model.removeprefix("ollama/")
        self._base = (base_url or default_base_url()).rstrip("/")
        self._timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._dim: int | None = known_dim

    @property
    def name(self) -> str:
        return f"ollama:{self._model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    @property
    def base_url(self) -> str:
        return self._base

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit rows from Ollama; EmbeddingUnavailable when it is down or answers badly."""
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        parts = [self._embed_batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        out = np.concatenate(parts)
        self._dim = int(out.shape[1])
        return out

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        url = f"{self._base}/api/embed"
        try:
            response = httpx.post(
                url, json={"model": self._model, "input": texts}, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise EmbeddingUnavailable(f"Ollama at {self._base} timed out: {exc}") from exc
        except httpx.HTTPError as exc:
            raise EmbeddingUnavailable(f"Ollama at {self._base} is unreachable: {exc}") from exc
        if response.status_code != 200:
            detail = response.text[:200].strip()
            raise EmbeddingUnavailable(
                f"Ollama at {self._base} answered HTTP {response.status_code} for model"
                f" {self._model!r}: {detail}"
            )
        try:
            vectors = response.json()["embeddings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingUnavailable(f"Ollama at {self._base} sent no 'embeddings'") from exc
        return unit_rows(vectors, len(texts), f"Ollama model {self._model!r}")
