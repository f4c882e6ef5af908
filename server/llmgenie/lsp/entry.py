"""Transports: run one server over stdio, TCP or WebSocket, and close it cleanly after."""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer

_log = get_logger(__name__)


def _run(start: str, *args: object) -> None:
    from llmgenie.lsp.server import create_server

    server = create_server()
    _log.info("server_starting", transport=start)
    try:
        getattr(server, start)(*args)
    finally:
        # The client vanished without shutdown/exit: still leave the index consistent.
        if not server.session.closed:
            server.session.close_now()
        _log.info("server_stopped", transport=start)


def _protocol_stdout() -> BinaryIO:
    """Move the protocol channel off fd 1 and point fd 1 at stderr.

    Anything that writes to stdout — a stray print(), a C library, a worker process that
    inherits fd 1 — then lands in the log instead of corrupting the LSP stream.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb")


class _NullWriter:
    """Swallows the replayed initialize's reply (the client already has the fast one)."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def serve_stdio() -> None:
    """Serve on stdin/stdout; stdout carries nothing but LSP messages."""
    from llmgenie.lsp import fastinit

    out = _protocol_stdout()
    stdin = sys.stdin.buffer
    first: bytes | None = None
    answered = False
    if fastinit.enabled():
        # Load pygls on a thread while this one reads and answers `initialize`.
        loader = threading.Thread(target=_import_server, name="llmgenie-import", daemon=True)
        loader.start()
        first = fastinit.read_frame(stdin)
        answered = first is not None and fastinit.answer_initialize(first, out)
        loader.join()
    from llmgenie.lsp.server import create_server

    server = create_server()
    try:
        if first is not None:
            _replay(server, first, swallow_reply=answered, out=out)
        server.start_io(stdin, out)
    finally:
        if not server.session.closed:
            server.session.close_now()


def _import_server() -> None:
    import llmgenie.lsp.server  # noqa: F401  (warms the module cache for the main thread)


def _replay(server: LlmgenieServer, body: bytes, *, swallow_reply: bool, out: BinaryIO) -> None:
    """Feed the first message, already read from stdin, through pygls."""
    from pygls.io_ import StdoutWriter

    protocol = server.protocol
    protocol.set_writer(_NullWriter() if swallow_reply else StdoutWriter(out))
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
        protocol.handle_message(message)
    except Exception as exc:
        from pygls.exceptions import JsonRpcException

        server.report_server_error(exc, JsonRpcException)
    finally:
        protocol.set_writer(StdoutWriter(out))


def serve_tcp(host: str, port: int) -> None:
    _run("start_tcp", host, port)


def serve_ws(host: str, port: int) -> None:
    _run("start_ws", host, port)
