"""Progress reporting and cooperative cancellation shared by the CLI, LSP and runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):
    """Raised inside long work when its CancelToken was cancelled."""


class CancelToken:
    """A thread-safe flag long work polls; `raise_if_cancelled` ends it promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of long work: `done` of `total` units, with a short message."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.total <= 0 else min(100, int(100 * self.done / self.total))


ProgressCallback = Callable[[ProgressEvent], None]
