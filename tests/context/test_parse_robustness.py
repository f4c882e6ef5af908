"""parse_document never raises, whatever the text, in every language."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import llmgenie.context.parser as parser_module
from llmgenie.context.parser import parse_document

PATHS = [
    "a.py", "a.js", "a.ts", "a.tsx", "a.go", "a.rs", "A.java", "a.c", "a.cpp", "a.cs", "a.rb",
    "a.php", "a.sh", "a.yaml", "a.json", "a.toml", "main.tf", "Dockerfile", "a.md", "a.txt",
]  # fmt: skip
TOKENS = [
    "def ", "class ", "fn ", "func ", "function ", "{", "}", "(", ")", ":", "\n", "    ", "\t",
    '"""', "'''", '"', "'", "#", "//", "/*", "*/", "x", "Foo", "=", ";", "<?php", "FROM ",
    "resource ", "- ", "key: ", "[table]", "\r\n", "\x00", "\ufffd", "é", "🙂", "\ud800",
]  # fmt: skip

texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(TOKENS), max_size=200).map("".join),
)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")), deadline=None)
@given(path=st.sampled_from(PATHS), text=texts, max_lines=st.integers(1, 40))
def test_any_text_parses_without_raising(path: str, text: str, max_lines: int) -> None:
    failures: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def warning(self, event: str, **context: Any) -> None:
            failures.append((event, context))

    original = parser_module._log
    parser_module._log = Recorder()
    try:
        full = parse_document(path, text, max_chunk_lines=max_lines)
    finally:
        parser_module._log = original
    # parse_document degrades to line windows on an internal error; none may happen.
    assert failures == []
    assert full.path == path
    previous = 0
    for chunk in full.chunks:
        assert previous < chunk.start_line <= chunk.end_line
        assert chunk.end_line - chunk.start_line + 1 <= max_lines
        previous = chunk.end_line
    for symbol in full.symbols:
        assert 1 <= symbol.start_line <= symbol.end_line


def test_internal_errors_degrade_to_line_windows(monkeypatch: Any) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("grammar bug")

    monkeypatch.setattr(parser_module, "finish", broken)
    parsed = parse_document("a.py", "x = 1\n" * 10, max_chunk_lines=4)
    assert parsed.has_errors and parsed.symbols == []
    assert [(c.start_line, c.end_line) for c in parsed.chunks] == [(1, 4), (5, 8), (9, 10)]


def test_empty_and_blank_files() -> None:
    assert parse_document("a.py", "").chunks == []
    assert parse_document("a.py", "\n\n   \n").chunks == []
    assert parse_document("a.md", "").symbols == []
