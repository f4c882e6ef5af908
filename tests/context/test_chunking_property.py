"""Chunking invariants, on generated region trees and on generated Python source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from llmgenie.context.chunking import Region, build_regions, chunk_lines
from llmgenie.context.models import Chunk
from llmgenie.context.parser import parse_document


def _check_invariants(lines: list[str], chunks: list[Chunk], max_lines: int) -> None:
    covered: set[int] = set()
    previous_end = 0
    for chunk in chunks:
        assert chunk.start_line > previous_end, "chunks overlap or are out of order"
        assert chunk.end_line >= chunk.start_line
        assert chunk.end_line - chunk.start_line + 1 <= max_lines, "cap exceeded"
        body = lines[chunk.start_line - 1 : chunk.end_line]
        assert chunk.text == "\n".join(body)
        assert any(line.strip() for line in body), "whitespace-only chunk"
        covered.update(range(chunk.start_line, chunk.end_line + 1))
        previous_end = chunk.end_line
    for number, line in enumerate(lines, start=1):
        if line.strip():
            assert number in covered, f"non-blank line {number} is in no chunk"


@st.composite
def region_forest(draw: st.DrawFn, start: int, end: int, depth: int = 0) -> list[Region]:
    """Non-overlapping nested regions inside [start, end]."""
    regions: list[Region] = []
    cursor = start
    while cursor <= end and depth < 3 and draw(st.booleans()):
        first = draw(st.integers(cursor, min(end, cursor + 20)))
        last = draw(st.integers(first, min(end, first + 150)))
        region = Region(first, last, f"s{depth}_{first}")
        region.children = draw(region_forest(first + 1, last, depth + 1))
        regions.append(region)
        cursor = last + 1
    return regions


@st.composite
def file_with_regions(draw: st.DrawFn) -> tuple[list[str], list[Region], int]:
    count = draw(st.integers(0, 400))
    lines = [draw(st.sampled_from(["", "  ", "code()", "    x = 1", "# c"])) for _ in range(count)]
    regions = draw(region_forest(1, count)) if count else []
    return lines, regions, draw(st.integers(1, 80))


@settings(max_examples=150, deadline=None)
@given(file_with_regions())
def test_chunk_invariants_on_generated_regions(case: tuple[list[str], list[Region], int]) -> None:
    lines, regions, max_lines = case
    chunks = chunk_lines("f.txt", lines, regions, max_lines)
    _check_invariants(lines, chunks, max_lines)
    assert chunk_lines("f.txt", lines, regions, max_lines) == chunks  # deterministic
    packed = chunk_lines("f.txt", lines, regions, max_lines, pack=True)
    _check_invariants(lines, packed, max_lines)
    assert len(packed) <= len(chunks)


@st.composite
def python_source(draw: st.DrawFn) -> str:
    out: list[str] = []
    for index in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["def", "class", "glue", "blank"]))
        if kind == "def":
            out.append(f"def f{index}(a, b):")
            out += ["    a += b"] * draw(st.integers(1, 90))
        elif kind == "class":
            out.append(f"class C{index}:")
            out.append('    """Doc."""')
            for method in range(draw(st.integers(0, 5))):
                out.append(f"    def m{method}(self):")
                out += ["        return 1"] * draw(st.integers(1, 40))
                out += [""] * draw(st.integers(0, 2))
        elif kind == "glue":
            out += [f"X{index} = {i}" for i in range(draw(st.integers(1, 70)))]
        else:
            out += [""] * draw(st.integers(1, 100))
    return "\n".join(out) + ("\n" if out else "")


@settings(max_examples=80, deadline=None)
@given(python_source(), st.integers(5, 80))
def test_chunk_invariants_on_generated_python(source: str, max_lines: int) -> None:
    parsed = parse_document("gen.py", source, max_chunk_lines=max_lines)
    lines = source.split("\n")[:-1] if source else []
    _check_invariants(lines, parsed.chunks, max_lines)
    again = parse_document("gen.py", source, max_chunk_lines=max_lines)
    assert again.chunks == parsed.chunks
    symbols = {s.qualified_name for s in parsed.symbols}
    for chunk in parsed.chunks:
        assert chunk.symbol is None or chunk.symbol in symbols


def test_big_class_splits_into_methods_and_long_function_into_windows() -> None:
    methods = "".join(f"    def m{i}(self):\n" + "        x = 1\n" * 20 + "\n" for i in range(5))
    source = "import os\n\n\nclass Big:\n    '''Doc.'''\n\n" + methods
    source += "\ndef long():\n" + "    y = 2\n" * 130
    parsed = parse_document("big.py", source, max_chunk_lines=40)
    summary = [(c.symbol, c.end_line - c.start_line + 1) for c in parsed.chunks]
    assert summary[0][0] is None  # the import glue
    assert [s for s, _ in summary[1:7]] == ["Big", "Big.m0", "Big.m1", "Big.m2", "Big.m3", "Big.m4"]
    long_parts = [n for s, n in summary if s == "long"]
    assert len(long_parts) == 4 and max(long_parts) <= 40 and sum(long_parts) >= 131


def test_build_regions_nests_and_clips() -> None:
    forest = build_regions([(1, 10, "A"), (2, 4, "A.b"), (5, 12, "A.c"), (20, 25, "D")])
    assert [(r.start_line, r.end_line, r.qualified_name) for r in forest] == [
        (1, 10, "A"),
        (20, 25, "D"),
    ]
    assert [(r.start_line, r.end_line) for r in forest[0].children] == [(2, 4), (5, 10)]
