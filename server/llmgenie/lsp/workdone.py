"""Server-initiated window/workDoneProgress with throttled reports and editor cancellation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer

_log = get_logger(__name__)

_REPORT_INTERVAL_S = 0.1


class WorkDone:
    """One progress bar in the editor; a no-op when the client lacks workDoneProgress."""

    def __init__(
        self, server: LlmgenieServer, title: str, on_cancel: Callable[[], None] | None
    ) -> None:
        self._server = server
        self._title = title
        self._on_cancel = on_cancel
        self.token: str = f"llmgenie-{uuid.uuid4().hex[:12]}"
        self._active = False
        self._last_report = 0.0

    async def begin(self, message: str = "") -> None:
        """Create the token on the client and show the bar (cancellable if a handler is set)."""
        caps = self._server.client_capabilities.window
        if caps is None or not caps.work_done_progress:
            return
        try:
            await self._server.work_done_progress.create_async(self.token)
        except Exception as exc:  # the client refused: run without a progress bar
            _log.warning("progress_create_failed", token=self.token, error=str(exc))
            return
        self._active = True
        if self._on_cancel is not None:
            self._server.session.progress_cancel_handlers[self.token] = self._on_cancel
        self._server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title=self._title,
                cancellable=self._on_cancel is not None,
                message=message or None,
                percentage=0,
            ),
        )

    def report(self, message: str, percentage: int | None = None, force: bool = False) -> None:
        """Send a report, at most one per 100 ms unless `force` (stage changes, the last one)."""
        if not self._active:
            return
        now = time.monotonic()
        if not force and now - self._last_report < _REPORT_INTERVAL_S:
            return
        self._last_report = now
        self._server.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    def end(self, message: str = "") -> None:
        if not self._active:
            return
        self._active = False
        self._server.session.progress_cancel_handlers.pop(self.token, None)
        self._server.work_done_progress.end(
            self.token, types.WorkDoneProgressEnd(message=message or None)
        )
        self._server.work_done_progress.tokens.pop(self.token, None)
