"""find_occurrences finds whole-word uses with correct positions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from llmgenie.context.occurrences import find_occurrences


def test_whole_words_only_with_positions() -> None:
    text = "get(x)\nvalue = get_value() + get\n  obj.get()\n$get get$ _get\n"
    assert find_occurrences(text, "get") == [(1, 0), (2, 22), (3, 6)]
    assert find_occurrences(text, "get", limit=2) == [(1, 0), (2, 22)]
    assert find_occurrences(text, "") == []
    assert find_occurrences("a.b(c)", "a.b") == [(1, 0)]  # names are literal, not regexes


@given(st.lists(st.sampled_from(["foo", "bar", " ", "\n", "foo_", "(", "."]), max_size=60))
def test_positions_point_at_the_name(parts: list[str]) -> None:
    text = "".join(parts)
    lines = text.split("\n")
    for line, col in find_occurrences(text, "foo"):
        assert lines[line - 1][col : col + 3] == "foo"
