"""The fast outline agrees with the full tree-sitter parse on the structure of Python."""

from __future__ import annotations

from llmgenie.context.outline import outline_document
from llmgenie.context.parser import parse_document

SOURCE = '''"""Module doc with a fake definition:
def not_a_function():
    pass
"""
import os
from .core import (Basic,
                   Expr as E)

LIMIT = {
    "a": 1,
}


@decorator(
    option=True,
)
# a comment between decorator and definition
class Shape(Basic):
    """A shape."""

    def area(self):
        # trailing comment inside the body is part of it
        return 0
        # still inside

    if TYPE_CHECKING:

        def typed(self) -> int:
            ...

    async def load(self,
                   path):
        def helper():
            return path
        return helper()
# a comment at column 0 closes nothing


def main():
    return Shape()
'''


def _structure(parsed: object) -> set[tuple[str, str, int, int]]:
    return {
        (s.qualified_name, s.kind, s.start_line, s.end_line)
        for s in parsed.symbols  # type: ignore[attr-defined]
        if s.kind in ("class", "function", "method", "variable")
    }


def test_outline_matches_tree_sitter_structure() -> None:
    outline = outline_document("pkg/shapes.py", SOURCE)
    full = parse_document("pkg/shapes.py", SOURCE)
    assert outline is not None
    assert _structure(outline) == _structure(full)
    assert "not_a_function" not in {s.name for s in outline.symbols}
    shape = next(s for s in outline.symbols if s.name == "Shape")
    assert (shape.signature, shape.docstring) == ("class Shape(Basic)", "A shape.")
    load = next(s for s in outline.symbols if s.name == "load")
    assert load.signature == "async def load(self, path)"
    assert set(outline.imports) == set(full.imports) == {".core", "os"}
    assert {("Basic", "import"), ("Expr", "import")} <= {
        (r.name, r.kind) for r in outline.references
    }


def test_outline_chunks_keep_the_invariants() -> None:
    outline = outline_document("pkg/shapes.py", SOURCE, max_chunk_lines=8)
    assert outline is not None
    lines = SOURCE.split("\n")[:-1]
    covered: set[int] = set()
    for chunk in outline.chunks:
        assert chunk.end_line - chunk.start_line + 1 <= 8
        assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
        covered.update(range(chunk.start_line, chunk.end_line + 1))
    assert all(n in covered for n, line in enumerate(lines, 1) if line.strip())


def test_outline_markdown_and_unsupported_languages() -> None:
    text = "# Guide\nintro\n```\n# not a heading\n```\n## Setup\nsteps\n"
    outline = outline_document("docs/guide.md", text)
    assert outline is not None
    assert [(s.qualified_name, s.start_line, s.end_line) for s in outline.symbols] == [
        ("Guide", 1, 7),
        ("Guide > Setup", 6, 7),
    ]
    assert outline_document("main.go", "package main\n") is None
