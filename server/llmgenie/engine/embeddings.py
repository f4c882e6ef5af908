"""EmbeddingIndex: the dense half of the engine — provider lifecycle, vectors, dense search.

No provider is the normal degraded case (offline, `embeddings = "none"`, a provider that
went away): every method then answers with nothing and `status` says why, so lexical
search never waits on or fails because of embeddings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from llmgenie.config import Settings
from llmgenie.contracts.progress import CancelToken, ProgressCallback
from llmgenie.engine.database import IndexDatabase, ReadView
from llmgenie.index.embeddings.base import EmbeddingProvider, EmbeddingUnavailable
from llmgenie.index.layout import IndexLayout
from llmgenie.index.vectors import VectorStore, VectorStoreError
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

DenseSearch = Callable[[str, int], list[tuple[int, float]]]
_MAX_QUERY_CHARS = 4000


class EmbeddingIndex:
    """Embeds pending chunks into the vector store and answers dense queries."""

    def __init__(self, db: IndexDatabase, layout: IndexLayout, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._vectors = VectorStore(layout, settings.index.chroma_url)
        self._lock = threading.Lock()
        self._loaded = False
        self._provider: EmbeddingProvider | None = None
        self._status = "not loaded yet"
        self._vector_error: str | None = None

    def close(self) -> None:
        self._vectors.close()

    # ------------------------------------------------------------------ provider

    def provider(self) -> EmbeddingProvider | None:
        """The provider, loaded once; None (with `status` saying why) when there is none."""
        with self._lock:
            if self._loaded:
                return self._provider
            self._loaded = True
            if self._settings.index.embeddings == "none":
                self._status = "disabled by settings (index.embeddings = none)"
            else:
                try:
                    from llmgenie.index.embeddings.factory import load_provider

                    self._provider, self._status = load_provider(self._settings)
                except Exception as exc:  # a broken provider must never break the engine
                    self._provider = None
                    self._status = f"embedding provider failed to load: {exc}"
            if self._provider is None:
                _log.info("embeddings_unavailable", reason=self._status)
            else:
                _log.info("embeddings_ready", provider=self._provider.name, dim=self._provider.dim)
            return self._provider

    def use_provider(self, provider: EmbeddingProvider | None, status: str) -> None:
        """Install a provider instead of loading one from settings (embedders, tests)."""
        with self._lock:
            self._loaded = True
            self._provider = provider
            self._status = status

    @property
    def raw_status(self) -> str:
        """The provider's status line as last recorded (loads nothing)."""
        return self._status

    def status(self) -> str:
        """A one-line status of the provider (loading it if needed)."""
        provider = self.provider()
        if provider is None:
            return self._status
        return f"{provider.name} (dim {provider.dim}): {self._status}"

    def degraded(self) -> list[str]:
        """Why dense retrieval is off or partial, in words (empty when it is complete)."""
        reasons: list[str] = []
        total, embedded = self._db.embedded_counts()
        if self._loaded and self._provider is None:
            reasons.append(f"dense retrieval off: {self._status}")
        elif embedded == 0 and total > 0:
            reasons.append(
                "dense retrieval off: no chunk has a vector yet (run `llmgenie index --embed`)"
            )
        elif embedded < total:
            reasons.append(f"dense retrieval partial: {embedded}/{total} chunks have vectors")
        if self._vector_error is not None:
            reasons.append(f"vector store unavailable: {self._vector_error}")
        return reasons

    # ------------------------------------------------------------------ writing

    def flush_deletes(self) -> None:
        """Delete vectors of removed chunks (queued in the catalog until vectors are in use)."""
        if self._vector_error is not None or self._provider is None:
            return
        from llmgenie.index.embedding_jobs import flush_deletes

        try:
            flush_deletes(self._db.writer, self._db.write_lock, self._vectors)
        except VectorStoreError as exc:
            self._vector_error = str(exc)

    def embed_pending(
        self,
        priority: list[str],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Embed chunks that have no vector yet, `priority` files first; returns the count."""
        provider = self.provider()
        if provider is None:
            return 0
        from llmgenie.index.embedding_jobs import embed_pending_chunks

        try:
            done = embed_pending_chunks(
                self._db.writer,
                self._db.write_lock,
                self._vectors,
                provider,
                priority,
                progress,
                cancel,
            )
        except VectorStoreError as exc:
            self._vector_error = str(exc)
            _log.warning("vectors_unavailable", error=str(exc))
            return 0
        except EmbeddingUnavailable as exc:
            # The provider went away (Ollama stopped, model build failed): degrade, say why.
            self.use_provider(None, f"embedding provider unavailable: {exc}")
            _log.warning("embeddings_unavailable", reason=str(exc))
            return 0
        self._vector_error = None
        return done

    # ------------------------------------------------------------------ reading

    def dense_search(self, view: ReadView) -> DenseSearch | None:
        """A dense search over `view` when vectors exist and a provider can embed queries."""
        if self._vector_error is not None or self._db.embedded_counts()[1] == 0:
            return None
        provider = self.provider()
        if provider is None:
            return None

        def search(query: str, n: int) -> list[tuple[int, float]]:
            try:
                vec = provider.embed([query[:_MAX_QUERY_CHARS]])[0]
                hits = self._vectors.query(vec, n)
            except Exception as exc:  # the store or the provider failed: lexical carries on
                self._vector_error = str(exc)
                _log.warning("dense_search_failed", error=str(exc))
                return []
            return self._db.chunks_for_vectors(view.conn, dict(hits)) if hits else []

        return search
