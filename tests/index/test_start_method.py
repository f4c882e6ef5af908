"""Parse workers are forked only from a process with one thread, native threads included.

Forking beside a native thread (the vector store's Rust runtime, ONNX's pool) that holds a
lock left the parse workers waiting on it forever: an index pass in a process with
embeddings loaded hung. `threading` does not see such threads; /proc/self/task does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="needs Linux's per-thread /proc entries"
)

PROGRAM = textwrap.dedent(
    """
    import _thread
    import threading

    from llmgenie.index.indexer import start_method

    print("alone", threading.active_count(), start_method())
    started, blocked = _thread.allocate_lock(), _thread.allocate_lock()
    started.acquire()
    blocked.acquire()

    def hold() -> None:
        started.release()
        blocked.acquire()  # stays, like a runtime's worker thread

    _thread.start_new_thread(hold, ())
    started.acquire()  # the thread runs now
    print("beside", threading.active_count(), start_method())
    """
)


def test_a_thread_threading_cannot_see_still_means_spawn() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[0] == "alone 1 fork"
    # `threading` still counts one thread, yet the process has two: no fork.
    assert out[1] == "beside 1 spawn"
