"""all-MiniLM-L6-v2 on onnxruntime, from the weights bundled in an installed package; no torch.

Throughput comes from: a hand-built graph of fused kernels (bert_onnx), dynamic int8
quantization (onnx_build), batches of similar token length (little padding), truncation to
`max_tokens`, and intra-op threads = usable cores. Output matches sentence-transformers
(mean pooling over real tokens, then L2 normalisation).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from llmgenie.index.embeddings.base import EmbeddingUnavailable
from llmgenie.index.embeddings.model_package import DEFAULT_MODEL_PACKAGE, locate_model
from llmgenie.index.embeddings.onnx_build import Precision, ensure_onnx_model
from llmgenie.observability.logging import get_logger

PROVIDER_NAME = "local:all-MiniLM-L6-v2"
DIM = 384
# all-MiniLM-L6-v2 was fine-tuned on sequences of at most 128 tokens (its model card), and
# 128 is what meets the >= 100 chunks/s budget on 2 cores; 256 covers more of a long chunk
# at half the speed. Numbers: docs/benchmarks_embeddings.md.
DEFAULT_MAX_TOKENS = 128
MAX_POSITIONS = 512
DEFAULT_BATCH_SIZE = 16
# Text beyond this many characters per allowed token can never reach the model; cutting it
# first keeps tokenizing a multi-megabyte string cheap.
_CHARS_PER_TOKEN_CAP = 24

_log = get_logger(__name__)


def usable_cores() -> int:
    """CPU cores this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LocalMiniLMProvider:
    """EmbeddingProvider for the bundled all-MiniLM-L6-v2; builds its ONNX model on first use."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        precision: Precision = "int8",
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        package: str = DEFAULT_MODEL_PACKAGE,
    ) -> None:
        if not 8 <= max_tokens <= MAX_POSITIONS:
            raise ValueError(f"max_tokens must be between 8 and {MAX_POSITIONS}, got {max_tokens}")
        if precision not in ("int8", "fp32"):
            raise ValueError(f"precision must be 'int8' or 'fp32', got {precision!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self._cache_dir = cache_dir
        self._max_tokens = max_tokens
        self._precision: Precision = precision
        self._threads = threads or usable_cores()
        self._batch_size = batch_size
        self._package = package
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._load_error: str | None = None

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    @property
    def dim(self) -> int:
        return DIM

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def precision(self) -> Precision:
        return self._precision

    def describe(self) -> str:
        """One line for status displays: model, precision, token limit, threads."""
        return (
            f"{PROVIDER_NAME} onnxruntime {self._precision}, max {self._max_tokens} tokens,"
            f" {self._threads} threads"
        )

    def load(self) -> None:
        """Build or load the ONNX model and tokenizer now; EmbeddingUnavailable if impossible."""
        if self._session is not None:
            return
        with self._load_lock:
            if self._session is not None:
                return
            if self._load_error is not None:
                raise EmbeddingUnavailable(self._load_error)
            try:
                self._session, self._tokenizer = self._open()
            except EmbeddingUnavailable as exc:
                self._load_error = str(exc)
                raise
            except Exception as exc:  # a broken cache dir or runtime must not crash callers
                self._load_error = f"local embedding model failed to load: {exc}"
                _log.warning("embedding_model_load_failed", error=str(exc))
                raise EmbeddingUnavailable(self._load_error) from exc

    def _open(self) -> tuple[Any, Any]:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = locate_model(self._package)
        path = ensure_onnx_model(files, self._cache_dir, self._precision)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle worker threads sleep instead of spinning: embedding runs in the background
        # and must leave the cores to the editor between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self._max_tokens)
        _log.info("embedding_model_loaded", model=str(path), detail=self.describe())
        return session, tokenizer

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit-length float32 rows, one per text, in input order (empty input -> (0, 384))."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        self.load()
        char_cap = self._max_tokens * _CHARS_PER_TOKEN_CAP
        encodings = self._tokenizer.encode_batch([t[:char_cap] for t in texts])
        ids = [np.asarray(e.ids, dtype=np.int32) for e in encodings]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        # Longest first, batched by similar length: each batch pads only to its own maximum.
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            width = int(lengths[rows[0]])
            input_ids = np.zeros((len(rows), width), dtype=np.int32)
            mask = np.zeros((len(rows), width), dtype=np.int32)
            for r, i in enumerate(rows):
                input_ids[r, : lengths[i]] = ids[i]
                mask[r, : lengths[i]] = 1
            with self._run_lock:  # one batch at a time: threads already use every core
                result = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})
            out[rows] = result[0]
        return out
