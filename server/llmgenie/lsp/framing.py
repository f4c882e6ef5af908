"""The JSON-RPC read loop, hardened against the bytes a client sends (replaces pygls' loop).

pygls trusts the client's framing: it allocates whatever Content-Length announces (a huge
one kills the process), bytes before a header or a body shorter than announced
desynchronise the stream for good, and JSON nested too deep is dropped without an answer.
Here a frame above the limit is refused with an error and skipped, the next
`Content-Length:` header is found wherever it starts in a line, a body that is not JSON
gives back any header it swallowed, nesting beyond the interpreter's limit is a parse
error, and large bodies are decoded on a worker thread so the event loop keeps answering.

Standard library only: the stdio entry uses the limit before pygls is imported.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from llmgenie.lsp.protocol import LlmgenieProtocol

MAX_FRAME_ENV = "LLMGENIE_LSP_MAX_FRAME_BYTES"
DEFAULT_MAX_FRAME = 64 * 1024 * 1024
LINE_LIMIT = 64 * 1024  # a header line longer than this is read (and ignored) in pieces
OFFLOAD_BYTES = 256 * 1024  # bodies at least this large are decoded off the event loop
_HEADER = b"content-length:"


def max_frame_bytes() -> int:
    """The largest body accepted (LLMGENIE_LSP_MAX_FRAME_BYTES, default 64 MiB)."""
    raw = os.environ.get(MAX_FRAME_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_FRAME


class FrameTooLarge(ValueError):
    """A header announced a body above the limit; the body is not read."""

    def __init__(self, length: int | None, limit: int) -> None:
        size = f"{length} bytes" if length is not None else "an unusable size"
        super().__init__(
            f"message of {size} exceeds the {limit}-byte limit ({MAX_FRAME_ENV}); skipped"
        )


def content_length(line: bytes) -> int | FrameTooLarge | None:
    """The length a header line announces (None if the line has no Content-Length)."""
    at = line.lower().rfind(_HEADER)
    if at < 0:
        return None
    value = line[at + len(_HEADER) :].strip()
    if not value.isdigit() or len(value) > 20:
        return FrameTooLarge(None, max_frame_bytes()) if value.isdigit() else None
    return int(value)


class ByteSource(Protocol):
    """Where frames come from: a bounded line read and an exact read (short only at EOF)."""

    async def readline(self, limit: int) -> bytes: ...

    async def read(self, n: int) -> bytes: ...


class StdinSource:
    """A blocking binary stream read on an executor thread."""

    def __init__(self, stream: BinaryIO, executor: Executor | None) -> None:
        self._stream = stream
        self._executor = executor

    async def readline(self, limit: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._stream.readline, limit)

    async def read(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._stream.read, n)


class StreamSource:
    """An asyncio StreamReader (the TCP transport)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self, limit: int) -> bytes:
        try:
            return await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except asyncio.LimitOverrunError as exc:
            return await self._reader.read(max(1, min(exc.consumed, limit)))

    async def read(self, n: int) -> bytes:
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


@dataclass(slots=True)
class FrameReader:
    """Frames from a ByteSource, with bytes given back (`unread`) read first."""

    source: ByteSource
    limit: int
    pending: bytes = b""

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending

    async def _line(self) -> bytes:
        if not self.pending:
            return await self.source.readline(LINE_LIMIT)
        end = self.pending.find(b"\n")
        if end >= 0:
            line, self.pending = self.pending[: end + 1], self.pending[end + 1 :]
            return line
        head, self.pending = self.pending, b""
        return head + await self.source.readline(LINE_LIMIT)

    async def _read(self, n: int) -> bytes:
        body, self.pending = self.pending[:n], self.pending[n:]
        if len(body) < n:
            body += await self.source.read(n - len(body))
        return body

    async def next(self) -> bytes | FrameTooLarge | None:
        """The next body, a refusal of an oversized one, or None at the end of the stream."""
        length: int | None = None
        while True:
            line = await self._line()
            if not line:
                return None
            announced = content_length(line)
            if isinstance(announced, FrameTooLarge):
                return announced
            if announced is not None:
                length = announced
            elif line in (b"\r\n", b"\n") and length is not None:
                if length > self.limit:
                    return FrameTooLarge(length, self.limit)
                body = await self._read(length)
                return body if len(body) == length else None


def decode(body: bytes, hook: Callable[[dict[str, Any]], Any]) -> Any:
    """json.loads with pygls' object hook (runs on a worker thread for large bodies)."""
    return json.loads(body, object_hook=hook)


async def read_loop(
    stop: threading.Event,
    source: ByteSource,
    protocol: LlmgenieProtocol,
    error_handler: Callable[[Exception, Any], Any],
) -> None:
    """Read, decode and dispatch messages in order until the stream ends or `stop` is set."""
    from pygls.exceptions import JsonRpcException

    from llmgenie.observability.logging import get_logger

    log = get_logger(__name__)
    frames = FrameReader(source, max_frame_bytes())
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        frame = await frames.next()
        if frame is None:
            break
        if isinstance(frame, FrameTooLarge):
            protocol.refuse_frame(str(frame))
            continue
        try:
            if len(frame) >= OFFLOAD_BYTES:
                message = await loop.run_in_executor(
                    None, decode, frame, protocol.structure_message
                )
            else:
                message = decode(frame, protocol.structure_message)
        except RecursionError:
            protocol.reply_parse_error(ValueError("JSON nested too deeply"))
            continue
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # A body shorter than announced swallowed the next header: read it again.
            at = frame.lower().find(_HEADER)
            if at > 0:
                frames.unread(frame[at:])
            protocol.reply_parse_error(exc)
            continue
        except Exception as exc:
            log.exception("message_decode_failed")
            error_handler(exc, JsonRpcException)
            continue
        try:
            protocol.handle_message(message)
        except Exception as exc:
            log.exception("message_dispatch_failed")
            error_handler(exc, JsonRpcException)
