"""Open editor buffers that shadow files on disk (the engine reads here before disk).

Public API:
    BufferOverlay().set(rel_path, text, version=None) / get(rel_path) -> Buffer | None
    .text(rel_path) -> str | None / .remove(rel_path) -> bool / .paths() -> list[str]
    .snapshot() -> dict[str, Buffer] / len(), `in`
All methods are thread-safe (LSP handlers and index workers call them concurrently).
A stale update (a version lower than the one held) is ignored, so out-of-order edits from
worker threads cannot roll a buffer back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Buffer:
    """One open document: its text and the editor's version number (None if unknown)."""

    rel_path: str
    text: str
    version: int | None = None


class BufferOverlay:
    """rel_path -> Buffer map guarded by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict[str, Buffer] = {}

    def set(self, rel_path: str, text: str, version: int | None = None) -> bool:
        """Store a buffer; returns False (and keeps the old one) if `version` is stale."""
        with self._lock:
            current = self._buffers.get(rel_path)
            if (
                current is not None
                and version is not None
                and current.version is not None
                and version < current.version
            ):
                return False
            self._buffers[rel_path] = Buffer(rel_path, text, version)
            return True

    def get(self, rel_path: str) -> Buffer | None:
        with self._lock:
            return self._buffers.get(rel_path)

    def text(self, rel_path: str) -> str | None:
        """The buffer's text, or None when the file is not open."""
        buffer = self.get(rel_path)
        return buffer.text if buffer is not None else None

    def remove(self, rel_path: str) -> bool:
        """Forget a buffer; True if there was one."""
        with self._lock:
            return self._buffers.pop(rel_path, None) is not None

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._buffers)

    def snapshot(self) -> dict[str, Buffer]:
        """A consistent copy of all buffers."""
        with self._lock:
            return dict(self._buffers)

    def __contains__(self, rel_path: object) -> bool:
        with self._lock:
            return rel_path in self._buffers

    def __len__(self) -> int:
        with self._lock:
            return len(self._buffers)
