"""Code-aware tokenization: identifiers split into parts, whole identifier kept, lowercase."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from llmgenie.index.tokens import code_tokens, expand_word, fts_text, split_identifier


def test_camel_snake_pascal_and_acronyms_split() -> None:
    assert code_tokens("parseHTTPRequest") == ["parsehttprequest", "parse", "http", "request"]
    assert code_tokens("XMLHttpRequest") == ["xmlhttprequest", "xml", "http", "request"]
    assert code_tokens("register_hook") == ["register_hook", "register", "hook"]
    assert code_tokens("getHTTP2Response") == [
        "gethttp2response", "get", "http", "2", "response",
    ]  # fmt: skip


def test_paths_kebab_and_dotted_names_split_into_identifiers() -> None:
    assert code_tokens("src/payments/invoice_calc.py") == [
        "src", "payments", "invoice_calc", "invoice", "calc", "py",
    ]  # fmt: skip
    assert code_tokens("rate-limit.config") == ["rate", "limit", "config"]
    assert code_tokens("sympy.core.basic") == ["sympy", "core", "basic"]


def test_dunder_names_lose_only_the_outer_underscores() -> None:
    assert code_tokens("__init__") == ["init"]
    assert code_tokens("__slots_extra__") == ["slots_extra", "slots", "extra"]


def test_fts_text_matches_code_tokens() -> None:
    text = "def compute_tax_total(self, invoiceLines): return sum(x.amount for x in lines)"
    assert fts_text(text).split() == code_tokens(text)


_identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)


@given(_identifiers)
def test_whole_identifier_and_parts_are_lowercase_and_reassemble(word: str) -> None:
    tokens = expand_word(word)
    if not word.strip("_"):
        assert tokens == []
        return
    assert tokens[0] == word.lower().strip("_")
    assert all(t == t.lower() and t for t in tokens)
    parts = split_identifier(word)
    # The parts are the identifier's characters minus underscores, in order.
    assert "".join(parts) == word.lower().replace("_", "")
    if len(parts) > 1:
        assert tokens[1:] == parts


@given(st.text(max_size=300))
def test_any_text_tokenizes_to_lowercase_word_tokens(text: str) -> None:
    tokens = code_tokens(text)
    assert all(re.fullmatch(r"\w+", t) for t in tokens)
    assert all(t == t.lower() or not t.isascii() for t in tokens)
    assert fts_text(text).split() == tokens


@given(st.lists(_identifiers, min_size=1, max_size=8))
def test_every_identifier_in_text_is_a_token(words: list[str]) -> None:
    text = " ".join(words)
    tokens = set(code_tokens(text))
    for word in words:
        if word.strip("_"):
            assert word.lower().strip("_") in tokens
