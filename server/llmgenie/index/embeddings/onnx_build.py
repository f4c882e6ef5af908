"""Build the ONNX sentence encoder once and cache it in the user cache dir, keyed by model hash.

fp32 is the graph from bert_onnx; int8 is onnxruntime's dynamic quantization of it
(per-channel int8 weights for every MatMul and the fused attention's QKV projection, int8
activations quantized on the fly). The embedding tables stay fp32: they are lookups, not
compute, and quantizing them costs accuracy for nothing.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

from llmgenie.index.embeddings.model_package import ModelFiles
from llmgenie.observability.logging import get_logger

Precision = Literal["int8", "fp32"]

# Part of the cache key: bump whenever the graph or the quantization recipe changes.
BUILD_VERSION = 1

_log = get_logger(__name__)
_build_lock = threading.Lock()


class _DropQuantizerAdvice(logging.Filter):
    """onnxruntime's quantizer logs a generic 'run pre-processing' warning on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing" not in record.getMessage()


def cached_model_path(files: ModelFiles, cache_dir: Path, precision: Precision) -> Path:
    """Where the ONNX file for these weights and this precision lives (or will live)."""
    stem = files.root.parent.name if files.root.name == "model" else files.root.name
    return cache_dir / f"{stem}-{files.fingerprint()[:16]}-b{BUILD_VERSION}-{precision}.onnx"


def ensure_onnx_model(files: ModelFiles, cache_dir: Path, precision: Precision) -> Path:
    """Return the cached ONNX model for `files`, building it first if needed (seconds, once)."""
    target = cached_model_path(files, cache_dir, precision)
    if target.is_file():
        return target
    with _build_lock:
        if target.is_file():
            return target
        cache_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        _log.info("embedding_model_build_started", target=str(target), precision=precision)
        fp32 = _build_fp32(files)
        # Each file is written to a private temp name, then renamed: a crash or a concurrent
        # builder in another process never leaves a half-written model under the final name.
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
            fp32_path = Path(tmp) / "fp32.onnx"
            fp32_path.write_bytes(fp32)
            _log.info(
                "embedding_model_graph_built", seconds=round(time.perf_counter() - started, 2)
            )
            if precision == "fp32":
                os.replace(fp32_path, target)
            else:
                int8_path = Path(tmp) / "int8.onnx"
                _quantize(fp32_path, int8_path)
                os.replace(int8_path, target)
        _log.info(
            "embedding_model_build_finished",
            target=str(target),
            precision=precision,
            megabytes=round(target.stat().st_size / 1e6, 1),
            seconds=round(time.perf_counter() - started, 2),
        )
        return target


def _build_fp32(files: ModelFiles) -> bytes:
    from safetensors.numpy import load_file

    from llmgenie.index.embeddings.bert_onnx import BertConfig, build_sentence_encoder

    model = build_sentence_encoder(
        load_file(str(files.weights)), BertConfig.from_file(files.config)
    )
    data: bytes = model.SerializeToString()
    return data


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    advice = _DropQuantizerAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            # Contrib ops defeat ONNX shape inference; every activation here is float.
            extra_options={"DefaultTensorType": 1},
        )
    finally:
        root.removeFilter(advice)
