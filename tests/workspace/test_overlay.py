"""The buffer overlay is consistent under concurrent edits and ignores stale versions."""

from __future__ import annotations

import threading

from llmgenie.workspace.overlay import BufferOverlay


def test_set_get_remove_and_stale_versions() -> None:
    overlay = BufferOverlay()
    assert overlay.text("a.py") is None
    assert overlay.set("a.py", "v2", version=2)
    assert not overlay.set("a.py", "v1", version=1)  # an older edit arriving late
    assert overlay.text("a.py") == "v2"
    assert overlay.set("a.py", "v3", version=3)
    assert "a.py" in overlay and len(overlay) == 1
    assert overlay.paths() == ["a.py"]
    assert overlay.remove("a.py") and not overlay.remove("a.py")
    assert overlay.text("a.py") is None


def test_concurrent_writers_end_at_the_highest_version() -> None:
    overlay = BufferOverlay()
    versions = list(range(1, 2001))

    def writer(offset: int) -> None:
        for version in versions[offset::4]:
            overlay.set("doc.py", f"text {version}", version)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    buffer = overlay.get("doc.py")
    assert buffer is not None and buffer.version == 2000 and buffer.text == "text 2000"
    assert overlay.snapshot()["doc.py"] == buffer
