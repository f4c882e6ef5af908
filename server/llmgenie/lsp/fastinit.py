"""Answer `initialize` within milliseconds of process start, while pygls loads.

Importing pygls + lsprotocol costs several hundred milliseconds (lsprotocol.types alone
defines ~1,000 attrs classes), which would blow the < 300 ms cold-start budget. So the
stdio entry point starts that import on a thread, reads the first message itself (stdlib
only), and if it is `initialize` answers it at once from the static capabilities below.
When pygls is ready, the same message is replayed into it with its reply suppressed, so
the server's state is exactly as if pygls had answered; everything after goes to pygls.

The capabilities here must equal what pygls computes from the registered features:
tests/lsp/test_fastinit.py compares both paths (LLMGENIE_LSP_FASTINIT=0 disables this one).
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO

from llmgenie import __version__
from llmgenie.contracts.ids import CODE_ACTION_KINDS, COMMANDS
from llmgenie.lsp.framing import LINE_LIMIT, FrameTooLarge, content_length, max_frame_bytes

_SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")


def enabled() -> bool:
    return os.environ.get("LLMGENIE_LSP_FASTINIT", "1") not in {"0", "false", "no"}


def position_encoding(params: dict[str, Any]) -> str:
    """The client's first supported encoding, else UTF-16 (pygls' rule)."""
    caps = params.get("capabilities")
    general = caps.get("general") if isinstance(caps, dict) else None
    encodings = general.get("positionEncodings") if isinstance(general, dict) else None
    if isinstance(encodings, list):
        for encoding in encodings:
            if encoding in _SUPPORTED_ENCODINGS:
                return str(encoding)
    return "utf-16"


def initialize_result(params: dict[str, Any]) -> dict[str, Any]:
    """The InitializeResult for `params`, identical to the one pygls builds."""
    return {
        "capabilities": {
            "positionEncoding": position_encoding(params),
            "textDocumentSync": {"openClose": True, "change": 2, "save": {"includeText": False}},
            "codeActionProvider": {
                "codeActionKinds": list(CODE_ACTION_KINDS),
                "resolveProvider": True,
            },
            "executeCommandProvider": {"commands": list(COMMANDS)},
            "workspace": {
                "workspaceFolders": {"supported": True, "changeNotifications": True},
                "fileOperations": {},
            },
        },
        "serverInfo": {"name": "llmgenie", "version": __version__},
    }


def read_frame(stream: BinaryIO) -> bytes | None:
    """One Content-Length framed body (None at EOF or when the frame is unusable).

    Raises FrameTooLarge, without reading the body, above the frame size limit.
    """
    length: int | None = None
    while True:
        line = stream.readline(LINE_LIMIT)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        announced = content_length(line)
        if isinstance(announced, FrameTooLarge):
            raise announced
        length = announced if announced is not None else length
    if length is None:
        return None
    if length > max_frame_bytes():
        raise FrameTooLarge(length, max_frame_bytes())
    body = stream.read(length)
    return body if len(body) == length else None


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def answer_initialize(body: bytes, out: BinaryIO) -> bool:
    """If `body` is a well-formed initialize request, answer it now; True if answered."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and message.get("method") == "initialize"
        and isinstance(message.get("id"), int | str)
        and isinstance(message.get("params"), dict)
        and isinstance(message["params"].get("capabilities"), dict)
    ):
        return False
    write_frame(
        out, {"jsonrpc": "2.0", "id": message["id"], "result": initialize_result(message["params"])}
    )
    return True
