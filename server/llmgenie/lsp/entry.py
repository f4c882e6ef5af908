"""Transports: run one server over stdio, TCP or WebSocket, and close it cleanly after.

`main(argv)` is the typer-free entry (`python -m llmgenie serve …` and
`python -m llmgenie.lsp …` land here): up to the `initialize` reply only the standard
library is imported, so a cold process answers in tens of milliseconds (see fastinit.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

if TYPE_CHECKING:
    from llmgenie.lsp.server import LlmgenieServer


def _log() -> Any:
    from llmgenie.observability.logging import get_logger

    return get_logger(__name__)


def configure(log_level: str) -> None:
    """Logging, and tracing when OTEL_* or LLMGENIE_TRACE_DIR asks for it (before CrewAI
    loads: its opt-out switches the OpenTelemetry SDK off)."""
    from llmgenie.observability.logging import configure_logging
    from llmgenie.observability.tracing import configure_tracing

    configure_logging(log_level)
    configure_tracing("llmgenie-lsp")


def _create() -> LlmgenieServer:
    """The server of this process (a server process freezes its heap after indexing)."""
    from llmgenie.app import heap
    from llmgenie.lsp.features import create_server

    heap.freeze_after_indexing()
    return create_server()


def _run(start: str, *args: object) -> None:
    server = _create()
    _log().info("server_starting", transport=start)
    try:
        getattr(server, start)(*args)
    finally:
        # The client vanished without shutdown/exit: still leave the index consistent.
        if not server.app.closed:
            server.app.close_now()
        _log().info("server_stopped", transport=start)


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


def serve_stdio(log_level: str = "WARNING") -> int:
    """Serve on stdin/stdout; stdout carries nothing but LSP messages.

    Returns the LSP exit code: 0 after `shutdown`, 1 if the client left without it.
    """
    from llmgenie.lsp import fastinit

    out = _protocol_stdout()
    stdin = sys.stdin.buffer
    first: bytes | None = None
    refused: Exception | None = None
    answered = False
    if fastinit.enabled():
        # Load pygls (and configure logging) on a thread while this one answers `initialize`.
        loader = threading.Thread(
            target=_import_server, args=(log_level,), name="llmgenie-import", daemon=True
        )
        loader.start()
        try:
            first = fastinit.read_frame(stdin)
        except ValueError as exc:  # FrameTooLarge: answered once pygls is loaded
            refused = exc
        answered = first is not None and fastinit.answer_initialize(first, out)
        loader.join()
    else:
        _import_server(log_level)
    server = _create()
    try:
        if refused is not None:
            _refuse(server, refused, out)
        if first is not None:
            _replay(server, first, swallow_reply=answered, out=out)
        server.start_io(stdin, out)
    finally:
        if not server.app.closed:
            server.app.close_now()
    return 0 if server.protocol._shutdown else 1


def _import_server(log_level: str) -> None:
    configure(log_level)
    import llmgenie.lsp.features  # noqa: F401  (warms the module cache for the main thread)


def _replay(server: LlmgenieServer, body: bytes, *, swallow_reply: bool, out: BinaryIO) -> None:
    """Feed the first message, already read from stdin, through pygls."""
    from pygls.exceptions import JsonRpcException
    from pygls.io_ import StdoutWriter

    protocol = server.protocol
    protocol.set_writer(_NullWriter() if swallow_reply else StdoutWriter(out))
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
        protocol.handle_message(message)
    except Exception as exc:
        server.report_server_error(exc, JsonRpcException)
    finally:
        protocol.set_writer(StdoutWriter(out))


def _refuse(server: LlmgenieServer, error: Exception, out: BinaryIO) -> None:
    """Answer a first frame that was too large to read."""
    from pygls.io_ import StdoutWriter

    server.protocol.set_writer(StdoutWriter(out))
    server.protocol.refuse_frame(str(error))


def serve_tcp(host: str, port: int, log_level: str = "WARNING") -> None:
    configure(log_level)
    _run("start_tcp", host, port)


def serve_ws(host: str, port: int, log_level: str = "WARNING") -> None:
    configure(log_level)
    _run("start_ws", host, port)


def host_port(value: str) -> tuple[str, int]:
    """Parse HOST:PORT (HOST defaults to 127.0.0.1); ValueError if malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def start_metrics(host: str, port: int) -> None:
    """Serve the process's Prometheus metrics on HOST:PORT (a local port; opt-in)."""
    from llmgenie.observability.metrics import serve_metrics

    serve_metrics(host, port)


def exit_now(code: int) -> NoReturn:
    """End the process once the server has stopped and the session is closed.

    Threads that third-party libraries start (litellm workers, CrewAI telemetry, a background
    import) must not keep an editor's server process alive after `exit`.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """`serve --stdio | --tcp HOST:PORT | --ws HOST:PORT [--log-level LEVEL]
    [--metrics HOST:PORT]` without typer."""
    parser = argparse.ArgumentParser(
        prog="llmgenie serve", description="Run the llmgenie language server."
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", action="store_true", help="LSP over stdin/stdout (editors)")
    mode.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP")
    mode.add_argument("--ws", metavar="HOST:PORT", help="listen on WebSocket")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LLMGENIE_LOG_LEVEL", "WARNING"),
        help="stderr log level",
    )
    parser.add_argument(
        "--metrics", metavar="HOST:PORT", help="also serve Prometheus /metrics (opt-in)"
    )
    args = parser.parse_args(argv)
    try:
        if args.metrics:
            start_metrics(*host_port(args.metrics))
        if args.stdio:
            return serve_stdio(args.log_level)
        elif args.tcp:
            serve_tcp(*host_port(args.tcp), log_level=args.log_level)
        else:
            serve_ws(*host_port(args.ws), log_level=args.log_level)
    except ValueError as exc:
        parser.error(str(exc))
    return 0
