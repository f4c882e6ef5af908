"""Payloads for documents open in the editor, re-using the previous version's work.

An edit to a large open file should cost what changed, not the file: the tree-sitter tree
is re-parsed incrementally (context/incremental.py) and the FTS tokens of chunks whose
text did not change are taken from the previous payload instead of re-tokenized. The
catalog writer already keeps the rows of unchanged chunks (catalog._reuse_chunks).

The result is exactly what prepare_text gives for the same text (tests/unit/
test_incremental_parse.py); only the time differs. State is kept for a few documents
(LRU, bounded by count and bytes) and dropped when the editor closes them.
"""

from __future__ import annotations

import threading

from llmgenie.context.incremental import DEFAULT_MAX_BYTES, DEFAULT_MAX_DOCUMENTS, DocumentTrees
from llmgenie.index.payload import FilePayload, chunk_tokens, payload_from_parsed
from llmgenie.index.schema import EDIT_TEXT_LEVEL
from llmgenie.index.worker import WorkerConfig


class OpenDocumentIndex:
    """Incremental `prepare_text` for open editor buffers."""

    def __init__(
        self, max_documents: int = DEFAULT_MAX_DOCUMENTS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.trees = DocumentTrees(max_documents, max_bytes)
        self._lock = threading.Lock()
        self._tokens: dict[str, dict[str, str]] = {}

    def prepare(
        self, rel_path: str, text: str, config: WorkerConfig, *, size: int, content_hash: str
    ) -> FilePayload:
        """The payload of an editor buffer (mtime -1: not the file on disk)."""
        with self._lock:
            known = self._tokens.pop(rel_path, None)
        parsed = self.trees.parse(rel_path, text, config.chunk_max_lines)
        payload = payload_from_parsed(
            parsed,
            size=size,
            mtime_ns=-1,
            content_hash=content_hash,
            text=text,
            known_tokens=known,
            text_level=EDIT_TEXT_LEVEL,
        )
        kept = set(self.trees.paths())
        with self._lock:
            if rel_path in kept:
                self._tokens[rel_path] = chunk_tokens(payload)
            for path in [p for p in self._tokens if p not in kept]:
                del self._tokens[path]
        return payload

    def forget(self, rel_path: str) -> None:
        """The document was closed or removed: drop its tree and tokens."""
        self.trees.forget(rel_path)
        with self._lock:
            self._tokens.pop(rel_path, None)

    def paths(self) -> list[str]:
        """Documents with kept state."""
        return self.trees.paths()


__all__ = ["OpenDocumentIndex"]
