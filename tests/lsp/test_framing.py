"""The frame reader on its own: what it makes of broken framing (the raw-pipe tests in
test_hostile_input.py drive the same code through the real server)."""

from __future__ import annotations

import io

from llmgenie.lsp.framing import FrameReader, FrameTooLarge, StdinSource


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _frames(data: bytes, limit: int = 1024) -> list[bytes | str]:
    reader = FrameReader(StdinSource(io.BufferedReader(io.BytesIO(data)), None), limit)
    out: list[bytes | str] = []
    while (frame := await reader.next()) is not None:
        out.append(str(frame) if isinstance(frame, FrameTooLarge) else frame)
        if isinstance(frame, bytes) and not frame.startswith(b"{"):
            at = frame.find(b"Content-Length:")
            if at > 0:  # what the read loop does with a body that is not JSON
                reader.unread(frame[at:])
    return out


async def test_garbage_glued_to_a_header_is_skipped() -> None:
    assert await _frames(b"junk" + _frame(b"{1}") + b"\n\r\n" + _frame(b"{2}")) == [
        b"{1}",
        b"{2}",
    ]


async def test_an_oversized_frame_is_refused_unread_and_the_next_one_read() -> None:
    frames = await _frames(b"Content-Length: 99999\r\n\r\n" + b"x" * 50 + _frame(b"{ok}"))
    assert frames == [
        "message of 99999 bytes exceeds the 1024-byte limit (LLMGENIE_LSP_MAX_FRAME_BYTES);"
        " skipped",
        b"{ok}",
    ]


async def test_an_absurd_length_is_refused_without_converting_it() -> None:
    frames = await _frames(b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n" + _frame(b"{ok}"))
    assert "unusable size" in str(frames[0]) and frames[1] == b"{ok}"


async def test_a_short_body_gives_back_the_header_it_swallowed() -> None:
    frames = await _frames(b"Content-Length: 30\r\n\r\nxy" + _frame(b'{"id": 1, "padding": 0}'))
    assert frames[-1] == b'{"id": 1, "padding": 0}'


async def test_a_truncated_body_at_the_end_of_the_stream_is_dropped() -> None:
    assert await _frames(b"Content-Length: 10\r\n\r\n{") == []
