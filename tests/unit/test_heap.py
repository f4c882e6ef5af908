"""The server's collector policy: freeze the heap when indexing goes idle, servers only."""

from __future__ import annotations

import gc

from llmgenie.app import heap


def test_settle_freezes_the_survivors_only_when_a_server_asked_for_it() -> None:
    assert gc.get_freeze_count() == 0
    # A library user or a test process keeps the interpreter's defaults.
    assert heap.settle() == 0
    assert gc.get_freeze_count() == 0
    heap.freeze_after_indexing()
    try:
        kept = [object() for _ in range(1000)]
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() >= len(kept)
        # Frozen objects are out of the collector's walk, not out of reach.
        assert all(isinstance(o, object) for o in kept)
    finally:
        heap.freeze_after_indexing(False)
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
