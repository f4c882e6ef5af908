"""The server process's garbage-collector policy: long-lived objects out of the way.

After an index pass the process holds millions of long-lived objects (parse trees of open
documents, the engine's caches, imported protocol classes). CPython's full collections
walk every one of them, which shows up as tens of milliseconds in the middle of an edit
(docs/benchmarks_lsp.md: edit CPU p95 66 ms with the collector, 43 ms without).
`gc.freeze()` moves what is alive at that moment into a permanent generation that
collections skip; those objects are still freed by reference counting when released.
Enabled by the server entry points only (a test process or a library user keeps the
interpreter's defaults).
"""

from __future__ import annotations

import gc

from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)
_enabled = False


def freeze_after_indexing(enabled: bool = True) -> None:
    """Let `settle` freeze the heap (called once by a server process at start-up)."""
    global _enabled
    _enabled = enabled


def settle() -> int:
    """Collect garbage, then freeze the survivors; the number frozen (0 when disabled).

    Called when indexing goes idle: what survives an index pass lives as long as the
    workspace is open.
    """
    if not _enabled:
        return 0
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    _log.info("heap_frozen", objects=frozen)
    return frozen
