"""Peak resident memory of a process *and its descendants* (index workers), sampled from /proc.

`resource.getrusage` reports the largest single process, not the sum of a parent and its
worker pool, which is what the machine actually has to hold. Linux only; elsewhere the
sampler reports 0 and the caller falls back to ru_maxrss.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            kids.extend(int(t) for t in text)
    except OSError:
        pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * _PAGE


def tree_rss(pid: int) -> int:
    """Current RSS of `pid` plus all its descendants, in bytes."""
    total = 0
    stack = [pid]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss_bytes(current)
        stack.extend(_children(current))
    return total


class PeakRssSampler:
    """Samples tree_rss(pid) every `interval_s` in a daemon thread; `.peak` is the max seen."""

    def __init__(self, pid: int | None = None, interval_s: float = 0.05) -> None:
        self.pid = os.getpid() if pid is None else pid
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.pid))
