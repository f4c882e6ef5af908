"""The llmgenie language server: a pygls LanguageServer plus a Session, features registered
from one small module per area (lifecycle, sync, code actions, commands, custom methods)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import FeatureNotificationError, FeatureRequestError, JsonRpcException
from pygls.lsp.server import LanguageServer

from llmgenie import __version__
from llmgenie.lsp.converter import make_converter
from llmgenie.lsp.protocol import LlmgenieProtocol, is_parse_error
from llmgenie.lsp.session import Session
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

SERVER_NAME = "llmgenie"


class LlmgenieServer(LanguageServer):
    """LanguageServer whose errors go to the log (stderr), never into the protocol stream."""

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
        self.session = Session(self)

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


def create_server() -> LlmgenieServer:
    """Build a server with every llmgenie feature registered."""
    from llmgenie.lsp import code_actions, commands, custom, lifecycle, sync

    server = LlmgenieServer()
    for module in (lifecycle, sync, code_actions, commands, custom):
        module.register(server)
    return server
