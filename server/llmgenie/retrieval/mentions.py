"""Path signal: files whose path (or Python module name) the query mentions.

Traceback paths carry machine-specific prefixes (`/home/x/site-packages/pkg/mod.py`), so a
mention matches a file when they share trailing path components; the more components
agree, the stronger the match. Bare file names shared by many files are weak evidence.
"""

from __future__ import annotations

from llmgenie.retrieval.query import QueryAnalysis
from llmgenie.retrieval.snapshot import FilesSnapshot

MAX_STEM_FILES = 4
STEM_SCORE = 1.0


def _trailing_match(mention_parts: list[str], path: str) -> int:
    parts = path.split("/")
    n = 0
    while n < len(parts) and n < len(mention_parts) and parts[-1 - n] == mention_parts[-1 - n]:
        n += 1
    return n


def path_mentions(snapshot: FilesSnapshot, analysis: QueryAnalysis) -> dict[int, tuple[float, str]]:
    """file id -> (score, mention) for files the query names by path or module."""
    out: dict[int, tuple[float, str]] = {}

    def add(fid: int, score: float, detail: str) -> None:
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
        parts = dotted.split(".")
        # Longest prefix that names a module: `pkg.mod.Class.method` -> pkg/mod.py.
        for end in range(len(parts), 1, -1):
            module_fid = snapshot.by_module.get(".".join(parts[:end]))
            if module_fid is not None:
                add(module_fid, 2.5 if end >= 3 else 1.5, dotted)
                break
    # Bare module names used as words ("sqlmigrate wraps its output..."): a file stem
    # the query names, when few files share it.
    for word, weight in analysis.identifiers.items():
        stem_files = snapshot.by_stem.get(word.lower())
        if not stem_files or len(word) < 4 or len(stem_files) > MAX_STEM_FILES:
            continue
        score = STEM_SCORE * min(weight, 3.0) / 2.0 / len(stem_files) ** 0.5
        for fid in stem_files:
            add(fid, score, f"names {word}")
    return out
