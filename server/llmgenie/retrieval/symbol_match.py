"""Symbol signal: files that define identifiers the query names.

An identifier defined in few files is strong evidence (weighted like IDF); code-looking
identifiers (snake_case, CamelCase, called with parentheses, in backticks) weigh more than
plain words; `Class.method` mentions favour the definition with that parent.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field

from llmgenie.retrieval.query import QueryAnalysis

MIN_WEIGHT = 2.0
PARENT_BOOST = 1.25
_KIND_FACTOR = {
    "class": 1.3,
    "struct": 1.2,
    "interface": 1.2,
    "trait": 1.2,
    "enum": 1.1,
    "type": 1.0,
    "function": 1.0,
    "method": 1.0,
    "constant": 0.7,
    "variable": 0.5,
    "field": 0.5,
    "property": 0.7,
    "section": 0.3,
    "key": 0.2,
}


@dataclass(frozen=True, slots=True)
class DefinitionHit:
    """One definition matched by the query."""

    file_id: int
    name: str
    qualified_name: str
    kind: str
    start_line: int
    end_line: int
    score: float


@dataclass(slots=True)
class SymbolHits:
    files: dict[int, float] = field(default_factory=dict)
    details: dict[int, list[str]] = field(default_factory=dict)
    definitions: list[DefinitionHit] = field(default_factory=list)


def symbol_matches(conn: sqlite3.Connection, analysis: QueryAnalysis, n_files: int) -> SymbolHits:
    """Score files by the query identifiers they define (see module docstring)."""
    hits = SymbolHits()
    # Plain words ("connection", "test") name too many things to be evidence on their own.
    idents = {k: w for k, w in analysis.identifiers.items() if w >= MIN_WEIGHT}
    if not idents:
        return hits
    keys = list({name.lower() for name in idents})
    rows: dict[str, list[tuple[int, str, str, str, int, int, str | None]]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        marks = ",".join("?" * len(part))
        for fid, name, qname, kind, s, e, parent in conn.execute(
            "SELECT file_id, name, coalesce(nullif(qualified_name, ''), name), kind, start_line,"
            f" end_line, parent FROM symbols WHERE coalesce(name_key, name) IN ({marks})",
            part,
        ):
            rows.setdefault(str(name).lower(), []).append(
                (int(fid), str(name), str(qname), str(kind), int(s), int(e), parent)
            )
    dotted_tails = {d.split(".")[-1]: d for d in analysis.dotted}
    n = max(n_files, 1)
    per_file: dict[int, dict[str, float]] = {}
    for ident, weight in idents.items():
        found = rows.get(ident.lower())
        if not found:
            continue
        exact = [r for r in found if r[1] == ident]
        chosen, case_factor = (exact, 1.0) if exact else (found, 0.4)
        def_files = {r[0] for r in chosen}
        idf = math.log(1 + n / len(def_files))
        dotted = dotted_tails.get(ident)
        for fid, name, qname, kind, s, e, parent in chosen:
            score = weight * idf * case_factor * _KIND_FACTOR.get(kind, 0.8)
            # A method whose class the query also names (`QuerySet` ... `filter`).
            if parent and parent.rsplit(".", 1)[-1] in idents:
                score *= PARENT_BOOST
            if dotted is not None and "." in qname and dotted.endswith(qname.split(".", 1)[-1]):
                score *= 1.5
            if dotted is not None and qname.endswith(".".join(dotted.split(".")[-2:])):
                score *= 1.5
            hits.definitions.append(DefinitionHit(fid, name, qname, kind, s, e, score))
            file_best = per_file.setdefault(fid, {})
            file_best[ident] = max(file_best.get(ident, 0.0), score)
    for fid, by_ident in per_file.items():
        hits.files[fid] = sum(by_ident.values())
        hits.details[fid] = sorted(by_ident, key=lambda k: -by_ident[k])[:5]
    hits.definitions.sort(key=lambda d: -d.score)
    return hits
