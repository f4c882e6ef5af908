"""Path signals: files whose path, Python module name or file stem the query mentions.

Traceback paths carry machine-specific prefixes (`/home/x/site-packages/pkg/mod.py`), so a
mention matches a file when they share trailing path components; the more components
agree, the stronger the match. Bare file names shared by many files are weak evidence, and
so are test files named in pasted tracebacks or diffs when the query is not about tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from llmgenie.retrieval.query import QueryAnalysis
from llmgenie.retrieval.snapshot import FilesSnapshot

# A stem shared by more files than this says nothing about which one is meant.
MAX_STEM_FILES = 12
MIN_STEM_LEN = 4
# Test files named in a traceback or diff of an issue that is not about tests.
TEST_MENTION_FACTOR = 0.5

_Add = Callable[[int, float, str], None]
"""Records a (file id, score, detail) path match."""


def _trailing_match(mention_parts: list[str], path: str) -> int:
    parts = path.split("/")
    n = 0
    while n < len(parts) and n < len(mention_parts) and parts[-1 - n] == mention_parts[-1 - n]:
        n += 1
    return n


def path_mentions(snapshot: FilesSnapshot, analysis: QueryAnalysis) -> dict[int, tuple[float, str]]:
    """file id -> (score, mention) for files the query names by path or module."""
    out: dict[int, tuple[float, str]] = {}
    test_factor = 1.0 if analysis.mentions_tests else TEST_MENTION_FACTOR

    def add(fid: int, score: float, detail: str) -> None:
        if snapshot.by_id[fid].is_test:
            score *= test_factor
        if fid not in out or out[fid][0] < score:
            out[fid] = (score, detail)

    for mention in analysis.paths:
        parts = [p for p in mention.split("/") if p and p not in (".", "..")]
        if not parts:
            continue
        candidates = snapshot.by_basename.get(parts[-1], [])
        if not candidates:
            continue
        scored = [(_trailing_match(parts, snapshot.by_id[fid].path), fid) for fid in candidates]
        best = max(m for m, _ in scored)
        winners = [fid for m, fid in scored if m == best]
        score = 1.0
        if best >= 2:
            score = 3.0 if best == len(parts) or best >= 3 else 2.0
        score /= len(winners) ** 0.5
        for fid in winners:
            add(fid, score, mention)
    for dotted in analysis.dotted:
        _dotted_mention(snapshot, dotted, add)
    return out


def _dotted_mention(snapshot: FilesSnapshot, dotted: str, add: _Add) -> None:
    """`pkg.mod.Class.method` -> pkg/mod.py (longest module prefix); failing that, a module
    path suffix (`models.lookups` -> `django/db/models/lookups.py`) of two or more parts."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        module_fid = snapshot.by_module.get(".".join(parts[:end]))
        if module_fid is not None:
            add(module_fid, 2.5 if end >= 3 else 1.5, dotted)
            return
    for end in range(len(parts), 1, -1):
        suffix = "." + ".".join(parts[:end])
        candidates = [
            fid
            for fid in snapshot.by_stem.get(parts[end - 1].lower(), [])
            if ("." + (snapshot.modules.get(fid) or "")).endswith(suffix)
        ]
        if candidates:
            score = (2.0 if end >= 3 else 1.2) / len(candidates) ** 0.5
            for fid in candidates:
                add(fid, score, dotted)
            return


def stem_mentions(
    snapshot: FilesSnapshot, analysis: QueryAnalysis, df: dict[str, int], total_chunks: int
) -> dict[int, tuple[float, str]]:
    """file id -> (strength in 0..1, word) for files whose stem is a word of the query.

    Issues name modules as plain words ("sqlmigrate crashes...", "the autodetector").
    The evidence is IDF-like twice over: a stem shared by many files (`utils`, `base`)
    is weak, and so is a word common in the code (`migration` in a django tree) compared
    with one found in a few chunks (`sqlmigrate`).
    """
    out: dict[int, tuple[float, str]] = {}
    n_files = max(len(snapshot), 2)
    n_chunks = max(total_chunks, 2)
    for word, weight in analysis.identifiers.items():
        stem = word.lower()
        files = snapshot.by_stem.get(stem)
        if not files or len(stem) < MIN_STEM_LEN or len(files) > MAX_STEM_FILES:
            continue
        file_spec = math.log(1 + n_files / len(files)) / math.log(1 + n_files)
        # Unknown to the chunk index (e.g. a word split into sub-tokens): middling.
        doc = df.get(stem, int(n_chunks**0.5))
        word_spec = math.log(1 + n_chunks / (1 + doc)) / math.log(1 + n_chunks)
        # Squared word specificity: only words rare in the code count for much.
        score = min(weight, 3.0) / 3.0 * file_spec * word_spec**2 / len(files) ** 0.5
        for fid in files:
            s = score
            if snapshot.by_id[fid].is_test and not analysis.mentions_tests:
                s *= TEST_MENTION_FACTOR
            if fid not in out or out[fid][0] < s:
                out[fid] = (s, f"names {word}")
    return out
