"""Embeddings from any litellm embedding model (`openai/...`, `cohere/...`, a compatible URL).

Chunks leave the machine here, so each is redacted first, like any text sent to a model.
litellm is imported on first use (it takes seconds), with its network side effects off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from llmgenie.index.embeddings.base import EmbeddingUnavailable
from llmgenie.index.embeddings.normalize import unit_rows
from llmgenie.litellm_setup import load_litellm
from llmgenie.redaction import Redactor

TIMEOUT_S = 60.0
BATCH = 128


class LiteLLMEmbeddingProvider:
    """EmbeddingProvider over litellm.embedding; the dimension is learned from the first answer."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout_s: float = TIMEOUT_S,
        max_retries: int = 0,
        known_dim: int | None = None,
    ) -> None:
        if not model:
            raise ValueError("a litellm embedding model is required (index.embedding_model)")
        self._model = model
        self._api_base = api_base
        # A self-hosted OpenAI-compatible server usually wants no key, but the client insists.
        self._api_key = api_key if api_key or not api_base else "not-needed"
        self._timeout = timeout_s
        self._retries = max_retries
        self._dim: int | None = known_dim
        self._redactor = Redactor(known_secrets=[api_key] if api_key else [])

    @property
    def name(self) -> str:
        return f"litellm:{self._model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit rows from the model; EmbeddingUnavailable on any provider failure."""
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        parts = [self._embed_batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        out = np.concatenate(parts)
        self._dim = int(out.shape[1])
        return out

    def _embed_batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        litellm = load_litellm()
        kwargs: dict[str, Any] = {"timeout": self._timeout, "num_retries": self._retries}
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        # Empty strings are rejected by several providers; a single space embeds the same.
        inputs = [self._redactor.redact(t) if t.strip() else " " for t in texts]
        try:
            response = litellm.embedding(model=self._model, input=inputs, **kwargs)
        except Exception as exc:  # litellm raises provider-specific exception types
            raise EmbeddingUnavailable(f"litellm model {self._model!r} failed: {exc}") from exc
        try:
            items = sorted(response.data, key=lambda d: int(_field(d, "index")))
            vectors = [_field(d, "embedding") for d in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingUnavailable(f"litellm model {self._model!r}: malformed answer") from exc
        return unit_rows(vectors, len(texts), f"litellm model {self._model!r}")


def _field(item: Any, key: str) -> Any:
    return item[key] if isinstance(item, dict) else getattr(item, key)
