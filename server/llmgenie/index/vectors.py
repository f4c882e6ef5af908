"""Dense vectors in ChromaDB: embedded PersistentClient beside the catalog, or a server.

Chroma never embeds anything itself here (embedding_function=None; vectors always come
from our provider), telemetry is off, and chromadb is imported only when vectors are
actually used, so opening an engine stays fast.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from llmgenie.index.layout import IndexLayout
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)


class VectorStoreError(RuntimeError):
    """The vector store cannot be reached or used; dense retrieval is degraded."""


class VectorStore:
    """One Chroma collection per workspace, cosine space, ids = chunk vec_ids."""

    def __init__(self, layout: IndexLayout, chroma_url: str | None) -> None:
        self._layout = layout
        self._url = chroma_url
        self._client: Any = None
        self._collection: Any = None
        self._lock = threading.Lock()

    @property
    def collection_name(self) -> str:
        # A shared server holds many workspaces; locally the directory already scopes it.
        # "i64": ids are the catalog's 64-bit vector ids (index/payload.py), not the hex ids
        # of older versions, whose collections are left alone on the server.
        return f"llmgenie-i64-{self._layout.key}"[:63] if self._url else "chunks"

    @property
    def is_local(self) -> bool:
        """The store lives in this workspace's index directory (no shared server)."""
        return self._url is None

    def _client_obj(self) -> Any:
        if self._client is None:
            try:
                import chromadb
                from chromadb.config import Settings as ChromaSettings
            except ImportError as exc:  # pragma: no cover - chromadb is a hard dependency
                raise VectorStoreError(f"chromadb is not installed: {exc}") from exc
            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            try:
                if self._url:
                    from urllib.parse import urlparse

                    parsed = urlparse(self._url)
                    self._client = chromadb.HttpClient(
                        host=parsed.hostname or "localhost",
                        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                        ssl=parsed.scheme == "https",
                        settings=chroma_settings,
                    )
                else:
                    self._layout.vectors_path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(
                        path=str(self._layout.vectors_path), settings=chroma_settings
                    )
            except Exception as exc:
                raise VectorStoreError(f"cannot open vector store: {exc}") from exc
        return self._client

    def _coll(self) -> Any:
        with self._lock:
            if self._collection is None:
                try:
                    self._collection = self._client_obj().get_or_create_collection(
                        self.collection_name,
                        embedding_function=None,
                        metadata={"hnsw:space": "cosine"},
                    )
                except VectorStoreError:
                    raise
                except Exception as exc:
                    raise VectorStoreError(f"cannot open collection: {exc}") from exc
            return self._collection

    def upsert(self, ids: list[str], vectors: npt.NDArray[np.float32], paths: list[str]) -> None:
        if not ids:
            return
        try:
            self._coll().upsert(ids=ids, embeddings=vectors, metadatas=[{"path": p} for p in paths])
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"vector upsert failed: {exc}") from exc

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self._coll().delete(ids=ids)
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"vector delete failed: {exc}") from exc

    def query(self, vector: npt.NDArray[np.float32], n: int) -> list[tuple[str, float]]:
        """Nearest (vec_id, cosine similarity) pairs, best first."""
        try:
            coll = self._coll()
            total = int(coll.count())
            if total == 0:
                return []
            res = coll.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=min(n, total),
                include=["distances"],
            )
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"vector query failed: {exc}") from exc
        ids = res.get("ids") or [[]]
        dists = res.get("distances") or [[]]
        return [(str(i), 1.0 - float(d)) for i, d in zip(ids[0], dists[0], strict=False)]

    def count(self) -> int:
        try:
            return int(self._coll().count())
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"vector count failed: {exc}") from exc

    def reset(self) -> None:
        """Drop the collection (embedding model changed: old vectors are incomparable)."""
        with self._lock:
            try:
                self._client_obj().delete_collection(self.collection_name)
            except VectorStoreError:
                raise
            except Exception as exc:
                _log.debug("vectors_reset_noop", error=str(exc))
            self._collection = None

    def close(self) -> None:
        self._collection = None
        self._client = None
