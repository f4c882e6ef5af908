"""The embedding provider contract the index relies on."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


class EmbeddingUnavailable(RuntimeError):
    """No provider can embed right now; the message says why (shown once, then lexical only)."""


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Shape (len(texts), dim); rows are unit length."""
        ...
