"""Understand a query, which may be a few words or a whole issue report with tracebacks.

Pulls out what retrieval can use: FTS terms (code-aware tokens minus stopwords),
identifiers as written (for exact symbol lookups), file paths and dotted module names
mentioned, and whether tests are the subject. `fts_match_expression` turns terms into an
FTS5 MATCH string that is safe for any input (every term is a quoted string).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from llmgenie.index.tokens import MAX_TOKEN_LEN, expand_word

MAX_IDENTIFIERS = 400
MAX_QUERY_CHARS = 20_000  # longer queries are refused (services raise InvalidRequest)
_MAX_PATH_WORD = 512  # paths and dotted names are looked for in words up to this long
TITLE_BOOST = 8  # an issue title's words count as 8 more mentions (Lite train half)
SHORT_QUERY_WORDS = 20

_STOPWORD_TEXT = """
a about above after again against all also am an and any are aren as at be because been
before being below between both but by can cannot could couldn did didn do does doesn
doing don down during each either else etc even ever every few for from further get gets
got had has have having he her here hers him his how however i if in into is isn it its
itself just least less let lets like ll made make makes many may me might more most much
must my myself need needs no nor not now of off on once one only or other otherwise our
ours out over own per please quite rather re really s same see seem seems she should
shouldn since so some still such sure t than that the their theirs them then there these
they thing things this those though through thus to too try trying under until up upon
us use used uses using ve very via want wants was wasn way we well were weren what when
where whether which while who whom why will with within without won would wouldn yet you
your yours yourself issue issues bug bugs problem problems error errors expected actual
behavior behaviour example examples following follows work works working worked happen
happens happened currently current instead result results case cases reproduce
reproduced steps step description describe fix fixed fixes thanks thank hi hello version
versions think know new old first second call called calls return returns returned value
values true false none null self cls def class import from return pass raise yield
lambda print last modified
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_BACKTICK_RE = re.compile(r"`([^`\n]{1,200})`")
_PATH_RE = re.compile(
    r"(?:[\w.\-]+/)+[\w.\-]+\.\w{1,10}|\b[\w\-]+\.(?:py|pyi|js|jsx|ts|tsx|go|rs|"
    r"java|c|cc|cpp|h|hpp|cs|rb|php|sh|ya?ml|json|toml|tf|md|rst|txt|cfg|ini)\b"
)
_DOTTED_RE = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_WORD_CASE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_TRACE_FN_RE = re.compile(r'File "[^"]+", line \d+, in (\w+)')
_CODEISH_RE = re.compile(r"_|[a-z][A-Z]|[A-Z]{2,}[a-z]|[A-Za-z]\d|^[A-Z][a-z]+[A-Z]")


@dataclass(slots=True)
class QueryAnalysis:
    """What retrieval extracts from a query text."""

    text: str
    terms: list[str] = field(default_factory=list)
    term_counts: dict[str, int] = field(default_factory=dict)
    identifiers: dict[str, float] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    dotted: list[str] = field(default_factory=list)
    mentions_tests: bool = False


def is_codeish(word: str) -> bool:
    """snake_case, camelCase, PascalCase-with-humps, ACRONYMWord, or letters+digits."""
    return bool(_CODEISH_RE.search(word.strip("_"))) or word.startswith("__")


def _in_words(pattern: re.Pattern[str], text: str) -> list[str]:
    """`pattern.findall` over each whitespace-separated word up to _MAX_PATH_WORD long.

    Neither pattern can span whitespace, so the matches are the same as over the whole
    text; but a long run of word characters makes them backtrack quadratically (and the
    regex engine holds the GIL), so such runs are skipped.
    """
    return [
        m for word in text.split() if len(word) <= _MAX_PATH_WORD for m in pattern.findall(word)
    ]


def analyze_query(text: str) -> QueryAnalysis:
    """Extract terms, identifiers (weighted by how code-like and how often), paths, names."""
    analysis = QueryAnalysis(text=text)
    backticked = " ".join(_BACKTICK_RE.findall(text))
    code_words = set(_WORD_CASE_RE.findall(backticked))
    code_words.update(_CALL_RE.findall(text))
    code_words.update(_TRACE_FN_RE.findall(text))
    dotted = list(dict.fromkeys(m for m in _in_words(_DOTTED_RE, text) if not m[0].isdigit()))
    analysis.dotted = dotted[:100]
    for name in dotted:
        code_words.update(name.split("."))
    analysis.paths = list(dict.fromkeys(p.strip("./") for p in _in_words(_PATH_RE, text)))[:100]
    words = Counter(_WORD_CASE_RE.findall(text))
    identifiers: dict[str, float] = {}
    for word, count in words.items():
        bare = word.strip("_") or word
        if len(bare) < 3 or bare.lower() in STOPWORDS or len(word) > MAX_TOKEN_LEN:
            continue
        weight = 1.0
        if is_codeish(word):
            weight = 2.0
        if word in code_words:
            weight += 1.0
        # Repeated mentions matter, with diminishing returns.
        weight *= 1.0 + 0.3 * min(count - 1, 5)
        identifiers[word] = weight
    top = sorted(identifiers.items(), key=lambda kv: -kv[1])[:MAX_IDENTIFIERS]
    analysis.identifiers = dict(top)
    counts: Counter[str] = Counter()
    for word in re.findall(r"\w+", text):
        for token in expand_word(word):
            if len(token) >= 2 and token not in STOPWORDS and not token.isdigit():
                counts[token] += 1
    # An issue's first line is its title: its words say what the issue is about.
    title = next((line for line in text.splitlines() if line.strip()), "")
    if TITLE_BOOST and title != text:
        for word in re.findall(r"\w+", title):
            for token in expand_word(word):
                if token in counts:
                    counts[token] += TITLE_BOOST
        for word in _WORD_CASE_RE.findall(title):
            if word in analysis.identifiers:
                analysis.identifiers[word] *= 1.0 + 0.25 * TITLE_BOOST
    analysis.term_counts = dict(counts)
    analysis.terms = list(counts)
    # Tests are the subject when a short query asks for them, or an issue's title does;
    # issue bodies often paste test code without being about tests.
    test_words = ("test", "tests", "testing", "pytest", "spec", "unittest")
    title_tokens = {t for w in re.findall(r"\w+", title) for t in expand_word(w)}
    short = len(re.findall(r"\w+", text)) <= SHORT_QUERY_WORDS
    analysis.mentions_tests = any(t in (counts if short else title_tokens) for t in test_words)
    return analysis


def quote_term(term: str) -> str:
    """An FTS5 string literal: double quotes around, inner quotes doubled, NULs dropped
    (SQLite ends the string at a NUL, which would leave the literal unterminated)."""
    return '"' + term.replace("\x00", "").replace('"', '""') + '"'


def fts_match_expression(terms: list[str]) -> str | None:
    """`"a" OR "b" ...` for the MATCH operator; None when there is nothing to search."""
    cleaned = [t for t in terms if t.replace("\x00", "").strip()]
    if not cleaned:
        return None
    return " OR ".join(quote_term(t) for t in cleaned)
