"""Query analysis: identifiers, paths, terms; FTS5 MATCH expressions are safe for any text."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from llmgenie.index.tokens import fts_text
from llmgenie.retrieval.query import analyze_query, fts_match_expression, quote_term

ISSUE = """`Session.resolve_redirects` copies the original request for all subsequent requests
Traceback (most recent call last):
  File "/home/u/.venv/lib/python3.11/site-packages/requests/sessions.py", line 12, in send
    r = adapter.send(request, **kwargs)
ValueError: the redirect chain is wrong; see sympy.core.basic for HTTPAdapter
"""


def test_issue_text_yields_identifiers_paths_and_dotted_names() -> None:
    a = analyze_query(ISSUE)
    assert "home/u/.venv/lib/python3.11/site-packages/requests/sessions.py" in a.paths
    assert "Session.resolve_redirects" in a.dotted
    assert "sympy.core.basic" in a.dotted
    # Code-looking identifiers outweigh plain words.
    assert a.identifiers["resolve_redirects"] > a.identifiers["original"]
    assert a.identifiers["HTTPAdapter"] > a.identifiers["chain"]
    assert "the" not in a.terms and "resolve" in a.terms and "redirects" in a.terms
    assert not a.mentions_tests


def test_stopwords_and_short_words_are_not_identifiers() -> None:
    a = analyze_query("it is the way to do it")
    assert a.identifiers == {}
    assert a.terms == []


def test_quote_term_doubles_quotes() -> None:
    assert quote_term('a"b') == '"a""b"'
    assert fts_match_expression([]) is None
    assert fts_match_expression(["a", "b"]) == '"a" OR "b"'


def _fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        'CREATE VIRTUAL TABLE t USING fts5(body, tokenize="unicode61 remove_diacritics 0'
        " tokenchars '_'\")"
    )
    conn.execute("INSERT INTO t(body) VALUES (?)", (fts_text("def resolve_redirects(): pass"),))
    return conn


_CONN = _fts()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_user_text_gives_a_valid_match_expression(text: str) -> None:
    expr = fts_match_expression(analyze_query(text).terms)
    if expr is not None:
        _CONN.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=10))
def test_arbitrary_raw_terms_are_quoted_safely(terms: list[str]) -> None:
    expr = fts_match_expression(terms)
    if expr is not None:
        _CONN.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()


def test_match_finds_the_document_by_part_and_by_whole_identifier() -> None:
    for query in ("resolve_redirects", "redirects please"):
        expr = fts_match_expression(analyze_query(query).terms)
        assert expr is not None
        assert _CONN.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()


def test_words_of_an_issue_title_weigh_more_than_the_same_words_in_its_body() -> None:
    a = analyze_query("Pickling fails for lazy_settings\nThe cache module reads lazy_settings too.")
    b = analyze_query("Something else entirely\nPickling fails for lazy_settings in the cache.")
    assert a.term_counts["pickling"] > b.term_counts["pickling"]
    assert a.identifiers["lazy_settings"] > b.identifiers["lazy_settings"]
    single = analyze_query("pickling lazy_settings")
    assert single.term_counts["pickling"] == 1


def test_tests_are_the_subject_only_for_short_queries_or_issue_titles() -> None:
    assert analyze_query("tests for the login view").mentions_tests
    body = (
        "Queryset union breaks ordering\n"
        + "Steps: run this code. " * 5
        + ("class UnionTests(TestCase):\n    def test_union(self):\n        pass\n")
    )
    assert not analyze_query(body).mentions_tests
    assert analyze_query(
        "Flaky test in the cache tests\n" + "Details follow here. " * 8
    ).mentions_tests
