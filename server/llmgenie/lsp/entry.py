"""Transports: run one server over stdio, TCP or WebSocket, and close it cleanly after."""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

from llmgenie.observability.logging import get_logger

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


def serve_stdio() -> None:
    """Serve on stdin/stdout; stdout carries nothing but LSP messages."""
    real_stdout = _protocol_stdout()
    from llmgenie.lsp.server import create_server

    server = create_server()
    try:
        server.start_io(sys.stdin.buffer, real_stdout)
    finally:
        if not server.session.closed:
            server.session.close_now()


def serve_tcp(host: str, port: int) -> None:
    _run("start_tcp", host, port)


def serve_ws(host: str, port: int) -> None:
    _run("start_ws", host, port)
