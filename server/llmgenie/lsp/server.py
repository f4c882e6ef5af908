"""The llmgenie language server: a pygls LanguageServer adapting one Application.

This class only converts: it hands the Application the editor's open buffers, and turns
the Application's events into LSP messages (llmgenie/status, llmgenie/runEvent,
work-done progress, showMessage, applyEdit and diagnostics for run results). The
features themselves are the small functions in features.py.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import FeatureNotificationError, FeatureRequestError, JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from llmgenie import __version__
from llmgenie.app.application import Application
from llmgenie.app.documents import BufferText
from llmgenie.app.events import (
    AppEvent,
    Notice,
    ProgressBegin,
    ProgressEnd,
    ProgressReport,
    RunCompleted,
    RunEventEmitted,
    StatusChanged,
)
from llmgenie.config import Settings
from llmgenie.contracts.ids import NOTIFY_RUN_EVENT, NOTIFY_STATUS
from llmgenie.lsp.converter import make_converter
from llmgenie.lsp.framing import StdinSource, StreamSource, read_loop
from llmgenie.lsp.options import InitOptions, session_settings
from llmgenie.lsp.protocol import LlmgenieProtocol, is_parse_error
from llmgenie.lsp.results import ResultDelivery
from llmgenie.lsp.uris import path_to_uri, uri_to_path
from llmgenie.lsp.workdone import WorkDone
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

SERVER_NAME = "llmgenie"
_MESSAGE_TYPES = {
    "info": types.MessageType.Info,
    "warning": types.MessageType.Warning,
    "error": types.MessageType.Error,
}


class OpenDocuments:
    """The editor's open buffers (pygls keeps their text), as the Application sees them."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server

    def text(self, path: Path) -> BufferText | None:
        doc = self._server.workspace.text_documents.get(path_to_uri(path))
        return None if doc is None else BufferText(doc.source, doc.version)

    def open_paths(self) -> list[Path]:
        paths = (uri_to_path(uri) for uri in list(self._server.workspace.text_documents))
        return [p for p in paths if p is not None]


class LlmgenieServer(LanguageServer):
    """LanguageServer + Application; errors go to the log, never into the protocol stream."""

    protocol: LlmgenieProtocol

    def __init__(self) -> None:
        super().__init__(
            SERVER_NAME,
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=LlmgenieProtocol,
            converter_factory=make_converter,
            max_workers=4,
        )
        self.options = InitOptions()
        self.app = Application(self._settings_for, self.on_event, OpenDocuments(self))
        self.results = ResultDelivery(self, self.app, self.notify, self.show)
        self._bars: dict[str, WorkDone] = {}

    def _settings_for(self, root: Path | None) -> tuple[Settings, list[str]]:
        return session_settings(root, self.options)

    # -- Application events → LSP messages --------------------------------------------------

    def on_event(self, event: AppEvent) -> None:
        """Send an event as it happens (a progress bar's creation is a round trip to the
        client: WorkDone holds back that bar's end until it exists)."""
        match event:
            case StatusChanged(status):
                self.notify(NOTIFY_STATUS, status.model_dump(mode="json", exclude_none=True))
            case RunEventEmitted(run_event):
                self.notify(
                    NOTIFY_RUN_EVENT,
                    {
                        "runId": run_event.run_id,
                        "kind": run_event.kind,
                        "message": run_event.message,
                        "data": run_event.data,
                    },
                )
            case Notice(level, message, detail):
                self.show(message, _MESSAGE_TYPES[level])
                if detail:
                    self.window_log_message(
                        types.LogMessageParams(type=types.MessageType.Info, message=detail)
                    )
            case ProgressBegin(token, title, message, cancellable):
                bar = self._bars[token] = WorkDone(self, token)
                bar.begin(title, message, cancellable)
            case ProgressReport(token, message, percentage):
                if token in self._bars:
                    self._bars[token].report(message, percentage)
            case ProgressEnd(token, message):
                if token in self._bars:
                    self._bars.pop(token).end(message)
            case RunCompleted(request, result):
                self.app.spawn(self.results.deliver(request, result))

    def notify(self, method: str, params: Any) -> None:
        """Send a notification (after shutdown only the final status goes out)."""
        if not self.app.closed or method == NOTIFY_STATUS:
            self.protocol.notify(method, params)

    def show(self, message: str, kind: types.MessageType) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # -- transports: pygls' own, reading through llmgenie.lsp.framing ---------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve one client on a pair of pipes until it exits or the pipe closes."""
        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        source = StdinSource(stdin or sys.stdin.buffer, self.thread_pool)
        try:
            asyncio.run(read_loop(stop, source, self.protocol, self.report_server_error))
        except BrokenPipeError:
            _log.error("client_lost")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        """Listen on HOST:PORT; each connection is read like stdio."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await read_loop(stop, StreamSource(reader), self.protocol, self.report_server_error)
            self.shutdown()  # type: ignore[no-untyped-call]

        async def listen() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(listen())
        except asyncio.CancelledError:
            _log.debug("tcp_server_cancelled")

    # -- pygls hooks --------------------------------------------------------------------------

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Out-of-band errors: answer unparseable input, log the rest; never crash or spam."""
        if is_parse_error(error):
            self.protocol.reply_parse_error(error)
            return
        if source is FeatureRequestError:
            _log.info("request_failed", error=repr(error))  # already answered as an error
            return
        if source is FeatureNotificationError:
            _log.error("notification_failed", error=repr(error))
            return
        if source is JsonRpcException:
            _log.warning("message_unhandled", error=repr(error))
            return
        _log.error(
            "server_error", error=repr(error), source=getattr(source, "__name__", str(source))
        )
