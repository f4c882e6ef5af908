"""Server-initiated window/workDoneProgress bars, one per application progress token.

A bar is created on the client (a request, with a deadline) before it begins; reports sent
meanwhile are dropped and an end waits for the creation, so a bar is never left open.
Clients without workDoneProgress, or that refuse or ignore the creation, get no bar.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

_log = get_logger(__name__)

CREATE_TIMEOUT_S = 10.0


class WorkDone:
    """One progress bar in the editor."""

    def __init__(self, server: LanguageServer, token: str) -> None:
        self._server = server
        self.token = token
        self._active = False
        self._began: asyncio.Future[None] | None = None

    def begin(self, title: str, message: str, cancellable: bool) -> None:
        """Create the token on the client, then show the bar (in the background)."""
        caps = self._server.client_capabilities.window
        if caps is None or not caps.work_done_progress:
            return
        self._began = asyncio.ensure_future(self._begin(title, message, cancellable))

    async def _begin(self, title: str, message: str, cancellable: bool) -> None:
        try:
            await asyncio.wait_for(
                self._server.work_done_progress.create_async(self.token), CREATE_TIMEOUT_S
            )
        except Exception as exc:  # refused or never answered: run without a progress bar
            _log.warning("progress_create_failed", token=self.token, error=repr(exc))
            return
        self._active = True
        self._server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title=title, cancellable=cancellable, message=message or None, percentage=0
            ),
        )

    def report(self, message: str, percentage: int | None = None) -> None:
        if self._active:
            self._server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str = "") -> None:
        """End the bar (once it exists, if its creation is still in flight)."""
        if self._began is not None and not self._began.done():
            self._began.add_done_callback(lambda _: self.end(message))
            return
        if not self._active:
            return
        self._active = False
        self._server.work_done_progress.end(
            self.token, types.WorkDoneProgressEnd(message=message or None)
        )
        self._server.work_done_progress.tokens.pop(self.token, None)
