"""Conversions between LSP positions (0-based lines, client code units) and text offsets.

llmgenie's own models use 1-based inclusive lines; LSP uses 0-based lines and columns
counted in the negotiated position encoding (UTF-16 unless the client asked otherwise).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec


def position_at_offset(text: str, offset: int, codec: PositionCodec) -> types.Position:
    """The LSP position of a character offset in `text`."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset].rstrip("\r") if offset > line_start else ""
    return types.Position(line=line, character=codec.client_num_units(prefix))


def range_of_span(text: str, start: int, end: int, codec: PositionCodec) -> types.Range:
    """The LSP range covering text[start:end]."""
    return types.Range(
        start=position_at_offset(text, start, codec), end=position_at_offset(text, end, codec)
    )


def lines_range(
    text: str | None, start_line: int, end_line: int, codec: PositionCodec
) -> types.Range:
    """An LSP range for 1-based inclusive lines, ending at the last line's end when known."""
    start = max(start_line, 1) - 1
    end = max(end_line, start_line, 1) - 1
    end_char = 0
    if text is not None:
        lines = text.splitlines()
        if end < len(lines):
            end_char = codec.client_num_units(lines[end])
    return types.Range(
        start=types.Position(line=start, character=0),
        end=types.Position(line=end, character=end_char),
    )


def to_one_based_lines(rng: types.Range) -> tuple[int, int]:
    """1-based inclusive (start_line, end_line) of an LSP range.

    A range ending at column 0 of a later line (a whole-line selection) ends on the line before.
    """
    start = rng.start.line + 1
    end = rng.end.line + 1
    if rng.end.character == 0 and rng.end.line > rng.start.line:
        end -= 1
    return start, max(start, end)
