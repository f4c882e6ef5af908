"""Function-level gold: gold patch -> changed base lines -> enclosing functions -> chunk hits,
the BM25-over-chunks index, and the train/heldout split."""

from __future__ import annotations

from bench.bm25_baseline import Bm25ChunkIndex
from bench.function_gold import (
    Span,
    assign_splits,
    first_hit,
    function_spans,
    gold_spans,
    parse_patch,
)

BASE = """import os


class Parser:
    limit = 3

    def parse(self, line):
        name, _, value = line.partition(':')
        return name

    @staticmethod
    def helper(x):
        def inner(y):
            return y + 1
        return inner(x)


def top_level():
    return os.getcwd()
"""

# Replaces line 8 (in Parser.parse), inserts after line 14 (in inner), edits line 5 (a
# class attribute, outside every function), and adds a new file. (Blank context lines are
# written without their leading space, as some tools emit them.)
PATCH = """diff --git a/pkg/parser.py b/pkg/parser.py
--- a/pkg/parser.py
+++ b/pkg/parser.py
@@ -3,7 +3,7 @@

 class Parser:
-    limit = 3
+    limit = 4

     def parse(self, line):
-        name, _, value = line.partition(':')
+        name, sep, value = line.partition(':')
         return name
@@ -12,6 +12,7 @@ def parse(self, line):
     def helper(x):
         def inner(y):
             return y + 1
+        inner.cached = True
         return inner(x)


diff --git a/pkg/new.py b/pkg/new.py
new file mode 100644
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1,2 @@
+def fresh():
+    return 1
"""


def test_patch_gives_old_side_changed_lines_and_insertion_neighbours() -> None:
    files = parse_patch(PATCH)
    assert [(f.path, f.new_file) for f in files] == [("pkg/parser.py", False), ("pkg/new.py", True)]
    parser = files[0]
    assert parser.deleted == {5, 8}
    # The added line sits between old lines 14 and 15: a pure insertion, both neighbours.
    assert parser.insert_after == {14}
    assert parser.changed_lines(BASE.split("\n")) == [5, 8, 14, 15]


def test_blank_insertion_neighbours_are_skipped_or_widened_to_the_nearest_code() -> None:
    lines = ["def a():", "    return 1", "", "", "def b():", "    return 2"]
    # Appending to a(): after line 2, before a blank line -> only line 2.
    at_end = parse_patch("--- a/m.py\n+++ b/m.py\n@@ -2,0 +3 @@\n+    x = 1\n")[0]
    assert at_end.changed_lines(lines) == [2]
    # A new function between the two blank lines -> the code on either side.
    between = parse_patch("--- a/m.py\n+++ b/m.py\n@@ -3,0 +4 @@\n+def c(): pass\n")[0]
    assert between.changed_lines(lines) == [2, 5]


def test_a_deleted_line_that_looks_like_a_file_header_stays_in_its_hunk() -> None:
    diff = (
        "diff --git a/notes.py b/notes.py\n--- a/notes.py\n+++ b/notes.py\n"
        "@@ -1,3 +1,2 @@\n x = 1\n--- y = 2\n z = 3\n"
    )
    (patch,) = parse_patch(diff)
    assert patch.path == "notes.py" and patch.deleted == {2}


def test_insertion_into_an_empty_range_points_after_the_given_line() -> None:
    diff = "--- a/m.py\n+++ b/m.py\n@@ -4,0 +5,2 @@\n+a = 1\n+b = 2\n"
    (patch,) = parse_patch(diff)
    assert patch.insert_after == {4} and patch.deleted == set()


def test_function_spans_are_qualified_nested_and_include_decorators() -> None:
    spans = function_spans(BASE, "pkg/parser.py")
    assert spans is not None
    assert [(s.symbol, s.start, s.end) for s in spans] == [
        ("Parser.parse", 7, 9),
        ("Parser.helper", 11, 15),  # the decorator on line 11 belongs to the function
        ("Parser.helper.inner", 13, 14),
        ("top_level", 18, 19),
    ]
    assert function_spans("def broken(:\n", "x.py") is None


def test_gold_spans_are_innermost_functions_or_the_line_itself() -> None:
    patch = parse_patch(PATCH)[0]
    functions, lines = gold_spans(patch, BASE)
    assert [(s.symbol, s.start, s.end) for s in functions] == [
        (None, 5, 5),  # the class attribute: no function encloses it
        ("Parser.parse", 7, 9),
        ("Parser.helper", 11, 15),  # line 15 (after the insertion) is in helper only
        ("Parser.helper.inner", 13, 14),
    ]
    assert [s.start for s in lines] == [5, 8, 14, 15]
    # A file that does not parse still yields its changed lines as the gold.
    functions, _ = gold_spans(patch, "def broken(:\n" * 20)
    assert all(s.symbol is None and s.start == s.end for s in functions)
    assert gold_spans(parse_patch(PATCH)[1], "") == ([], [])


def test_a_chunk_hits_when_it_overlaps_a_gold_span_of_the_same_file() -> None:
    gold = [Span("pkg/parser.py", 7, 9, "Parser.parse")]
    chunks = [
        ("pkg/other.py", 7, 9),  # same lines, other file: no hit
        ("pkg/parser.py", 1, 6),  # ends just before the function
        ("pkg/parser.py", 9, 20),  # shares the function's last line
    ]
    assert first_hit(chunks, gold) == 3
    assert first_hit(chunks[:2], gold) is None
    assert first_hit([], gold) is None


def test_split_is_half_per_repository_and_independent_of_order() -> None:
    items = [(f"acme__big-{i}", "acme/big") for i in range(40)] + [
        (f"acme__small-{i}", "acme/small") for i in range(3)
    ]
    split = assign_splits(items)
    assert assign_splits(reversed(items)) == split  # input order does not matter
    big = [split[i] for i, r in items if r == "acme/big"]
    assert big.count("train") == big.count("heldout") == 20
    small = [split[i] for i, r in items if r == "acme/small"]
    assert sorted(small) == ["heldout", "train", "train"]  # an odd count: train has one more
    # Adding instances of another repository does not move anyone in this one.
    more = assign_splits([*items, ("other__x-1", "other/x")])
    assert {i: more[i] for i, _ in items} == split


def test_bm25_chunk_index_ranks_the_matching_chunk_and_replaces_files() -> None:
    index = Bm25ChunkIndex()
    index.set_file(
        "pkg/parser.py",
        [(1, 3, "import os\nlimit = 3"), (7, 9, "def parse(self, line):\n    partition")],
    )
    index.set_file("pkg/net.py", [(1, 2, "def open_socket(host, port):\n    return host")])
    assert next(key for key, _ in index.search("partition the line", k=2)) == (
        "pkg/parser.py",
        7,
        9,
    )
    # The path is part of every chunk of the file.
    assert {key[0] for key, _ in index.search("net", k=5)} == {"pkg/net.py"}
    index.set_file("pkg/parser.py", [(1, 2, "nothing here")])
    assert index.search("partition", k=5) == []
    index.remove_file("pkg/net.py")
    assert len(index) == 1


def _row(iid: str, chunk_rank: int | None, rank: int | None, top: list[str]) -> dict[str, object]:
    return {
        "instance_id": iid,
        "method": "m",
        "rank": rank,
        "chunk_rank": chunk_rank,
        "chunk_line_rank": chunk_rank,
        "gold_files": ["pkg/parser.py"],
        "gold_spans": ["pkg/parser.py:7-9:Parser.parse"],
        "top_chunks": top,
    }


def test_chunk_failure_analysis_separates_wrong_part_from_wrong_file() -> None:
    from bench.failure_analysis import analyse_chunks

    rows = [
        _row("a-1", 1, 1, ["pkg/parser.py:7-9"]),
        _row("a-2", None, 1, ["pkg/parser.py:1-6", "tests/test_parser.py:1-9"]),
        _row("a-3", None, None, ["pkg/net.py:1-2"]),
    ]
    issues = {"a-2": {"problem_statement": "parse() drops the value"}}
    text = analyse_chunks(rows, "m", 5, issues)
    assert "2 of 3 instances miss" in text
    assert "gold file's chunks returned, other parts of it 1" in text
    assert "gold file not in the top files either 1" in text
    assert "issue text names an edited function: misses 1/2, hits 0/1" in text
    assert "| a-3 | >k | >k | pkg/parser.py:7-9:Parser.parse | pkg/net.py:1-2 |" in text


def test_summarize_merges_chunk_ranks_per_split() -> None:
    from bench.summarize import summarize_rows

    def row(iid: str, split: str, chunk: int | None) -> dict[str, object]:
        return {
            "status": "ok",
            "repo": "acme/tiny",
            "rank": 1,
            "no_file_named": False,
            "split": split,
            "chunk_rank": chunk,
            "chunk_line_rank": None,
        }

    rows = {
        ("a-1", "m"): row("a-1", "train", 1),
        ("a-2", "m"): row("a-2", "heldout", 7),
        ("a-3", "m"): row("a-3", "heldout", None),
    }
    summary = summarize_rows(rows)  # type: ignore[arg-type]
    function = summary["chunks"]["m"]["function"]
    assert function["overall"]["top5"] == round(100 / 3, 1)
    assert function["per_split"]["train"]["top1"] == 100.0
    assert function["per_split"]["heldout"]["top10"] == 50.0
    assert summary["chunks"]["m"]["line"]["overall"]["top10"] == 0.0
