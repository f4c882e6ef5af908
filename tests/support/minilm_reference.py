"""A plain numpy forward pass of a BERT sentence encoder (mean pooling, L2 normalised),
written from the architecture's definition, independent of the ONNX graph llmgenie builds
(index/embeddings/bert_onnx.py): the reference the built model is checked against."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: Array) -> Array:
    # BERT's exact gelu: x * Φ(x), with the normal CDF through erf.
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(weights: dict[str, npt.NDArray[np.float32]], config_path: Path, ids: list[int]) -> Array:
    """The sentence vector of one token id sequence (with [CLS] … [SEP] already added)."""
    cfg = json.loads(config_path.read_text(encoding="utf-8"))
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    eps = float(cfg["layer_norm_eps"])
    heads = int(cfg["num_attention_heads"])
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    hidden = x.shape[1]
    size = hidden // heads
    for layer in range(int(cfg["num_hidden_layers"])):
        p = f"encoder.layer.{layer}."

        def dense(v: Array, name: str, prefix: str = p) -> Array:
            return v @ w[f"{prefix}{name}.weight"].T + w[f"{prefix}{name}.bias"]

        q = dense(x, "attention.self.query").reshape(n, heads, size).transpose(1, 0, 2)
        k = dense(x, "attention.self.key").reshape(n, heads, size).transpose(1, 0, 2)
        v = dense(x, "attention.self.value").reshape(n, heads, size).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        attended = dense(context, "attention.output.dense")
        x = _layer_norm(
            attended + x,
            w[f"{p}attention.output.LayerNorm.weight"],
            w[f"{p}attention.output.LayerNorm.bias"],
            eps,
        )
        inner = _gelu(dense(x, "intermediate.dense"))
        x = _layer_norm(
            dense(inner, "output.dense") + x,
            w[f"{p}output.LayerNorm.weight"],
            w[f"{p}output.LayerNorm.bias"],
            eps,
        )
    pooled = x.mean(0)
    out: Array = pooled / np.linalg.norm(pooled)
    return out
