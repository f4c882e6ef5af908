"""Make the local embedding model ready before its first use, and prove it is the right one.

Building the ONNX graph from the bundled weights costs seconds and a few hundred MB once;
`llmgenie embeddings prepare` does it at install time (scripts/install.sh, the VS Code
extension's managed install) so no user's first index waits for it, and `index --embed`
says so when it has to build. A model file is only trusted after it reproduces reference
vectors computed independently from the same weights (reference_vectors.json, made by the
numpy forward pass in tests/support/minilm_reference.py); a wrong or corrupt file is
rebuilt once, then refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from llmgenie.index.embeddings.base import EmbeddingUnavailable
from llmgenie.index.embeddings.model_package import DEFAULT_MODEL_PACKAGE, locate_model
from llmgenie.index.embeddings.onnx_build import Precision, cached_model_path, ensure_onnx_model
from llmgenie.observability.logging import get_logger

# int8 quantization moves a vector by ~0.5 % (cosine ≥ 0.99 measured); fp32 is exact.
MIN_COSINE: dict[str, float] = {"fp32": 0.9999, "int8": 0.98}

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedModel:
    """A model file that is ready, how it got there and how close it is to the reference."""

    path: Path
    precision: Precision
    built: bool
    seconds: float
    min_cosine: float | None
    """Lowest cosine to the reference vectors; None when no reference matches the weights."""


@dataclass(frozen=True, slots=True)
class Reference:
    fingerprint: str
    max_tokens: int
    texts: list[str]
    vectors: np.ndarray


def load_reference() -> Reference:
    """The reference texts and vectors shipped with llmgenie."""
    raw = json.loads(
        resources.files("llmgenie.index.embeddings")
        .joinpath("reference_vectors.json")
        .read_text(encoding="utf-8")
    )
    return Reference(
        str(raw["fingerprint"]),
        int(raw["max_tokens"]),
        [str(t) for t in raw["texts"]],
        np.asarray(raw["vectors"], dtype=np.float32),
    )


def model_is_built(cache_dir: Path, precision: Precision = "int8") -> bool:
    """Whether the model file exists already (cheap apart from hashing the weights)."""
    return cached_model_path(locate_model(), cache_dir, precision).is_file()


def prepare_local_model(
    cache_dir: Path,
    precision: Precision = "int8",
    announce: Callable[[str], None] | None = None,
    package: str = DEFAULT_MODEL_PACKAGE,
) -> PreparedModel:
    """Build the model if needed and check it against the reference vectors."""
    started = time.perf_counter()
    files = locate_model(package)
    target = cached_model_path(files, cache_dir, precision)
    reference = load_reference()
    checkable = reference.fingerprint == files.fingerprint()
    built = False
    cosine: float | None = None
    for _attempt in range(2):
        if not target.is_file():
            if announce is not None:
                announce(
                    f"building the local embedding model ({precision}), once: this takes"
                    " 10-30 seconds"
                )
            built = True
        ensure_onnx_model(files, cache_dir, precision)
        if not checkable:
            break
        cosine = _min_cosine(cache_dir, precision, reference, package)
        if cosine >= MIN_COSINE[precision]:
            break
        _log.warning("embedding_model_mismatch", path=str(target), cosine=round(cosine, 4))
        target.unlink(missing_ok=True)
    else:
        raise EmbeddingUnavailable(
            f"the local embedding model at {target} does not reproduce its reference vectors"
            f" (cosine {cosine:.4f} < {MIN_COSINE[precision]}) even after a rebuild"
        )
    prepared = PreparedModel(
        target, precision, built, round(time.perf_counter() - started, 2), cosine
    )
    _log.info(
        "embedding_model_prepared",
        path=str(target),
        built=built,
        seconds=prepared.seconds,
        min_cosine=None if cosine is None else round(cosine, 5),
    )
    return prepared


def _min_cosine(cache_dir: Path, precision: Precision, ref: Reference, package: str) -> float:
    from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider

    provider = LocalMiniLMProvider(
        cache_dir, precision=precision, max_tokens=ref.max_tokens, package=package
    )
    try:
        provider.load()
        vectors = provider.embed(ref.texts)
    except EmbeddingUnavailable as exc:  # a corrupt file: onnxruntime cannot load it
        _log.warning("embedding_model_unloadable", error=str(exc))
        return -1.0
    return float((vectors * ref.vectors).sum(axis=1).min())
