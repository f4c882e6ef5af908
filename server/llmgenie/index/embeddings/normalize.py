"""Shared helpers for providers that get raw vectors from a remote model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from llmgenie.index.embeddings.base import EmbeddingUnavailable


def unit_rows(
    vectors: Sequence[Sequence[float]], expected: int, source: str
) -> npt.NDArray[np.float32]:
    """Stack vectors into float32 rows of length 1; reject a wrong count or ragged dims."""
    if len(vectors) != expected:
        raise EmbeddingUnavailable(f"{source} returned {len(vectors)} vectors for {expected} texts")
    try:
        array = np.asarray(vectors, dtype=np.float32)
    except ValueError as exc:
        raise EmbeddingUnavailable(f"{source} returned vectors of different lengths") from exc
    if array.ndim != 2 or array.shape[1] == 0:
        raise EmbeddingUnavailable(f"{source} returned malformed vectors (shape {array.shape})")
    if not np.isfinite(array).all():
        raise EmbeddingUnavailable(f"{source} returned non-finite values")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = (array / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
