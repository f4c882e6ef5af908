"""Streamed line windows agree with the in-memory ones, whatever the file's shape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmgenie.workspace.files import (
    FileTooLargeError,
    NotRegularFileError,
    open_regular,
    read_line_window,
    read_regular_text,
    text_window,
)

SHAPES = {
    "empty": "",
    "one line, no newline": "only",
    "trailing newline": "a\nb\nc\n",
    "no trailing newline": "a\nb\nc",
    "crlf": "a\r\nb\r\nc\r\n",
    "blank lines": "\n\nx\n\n",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize(("start", "end"), [(1, 1), (1, 400), (2, 3), (3, 9), (7, 8)])
def test_disk_window_matches_the_buffer_window(
    tmp_path: Path, text: str, start: int, end: int
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(text.encode())
    on_disk = read_line_window(path, start, end, max_bytes=1 << 20)
    in_memory = text_window(text, start, end, max_bytes=1 << 20)
    assert on_disk == in_memory
    assert on_disk.total == len(text.splitlines())


def test_a_line_longer_than_the_limit_is_cut_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"short\n" + b"y" * (3 << 20) + b"\nlast\n")
    window = read_line_window(path, 1, 3, max_bytes=1000)
    assert window.total == 3 and window.cut
    assert window.lines[0] == "short"
    assert len("".join(window.lines)) <= 1000


def test_only_regular_files_open(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="pipe is not a regular file"):
        open_regular(fifo, name="pipe")
    with pytest.raises(NotRegularFileError):
        read_line_window(fifo, 1, 3, max_bytes=100)
    big = tmp_path / "big.txt"
    big.write_bytes(b"z" * 101)
    with pytest.raises(FileTooLargeError, match=r"big\.txt is larger than 100 bytes"):
        read_regular_text(big, max_bytes=100, name="big.txt")
    assert read_regular_text(big, max_bytes=101) == "z" * 101
