"""CodeNavigator: definitions, references and the context around a cursor position.

Read-only over the catalog plus the current text of files (the editor's buffer when one
is open), so positions always match what the user sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from llmgenie.context.occurrences import find_occurrences
from llmgenie.contracts.search import ChunkHit
from llmgenie.contracts.symbols import (
    PositionContext,
    Reference,
    ReferenceInfo,
    Symbol,
    SymbolInfo,
)
from llmgenie.engine.database import IndexDatabase

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_REFERENCES = 5000
MAX_RELATED = 20


def symbol_info(sym: Symbol) -> SymbolInfo:
    """The JSON shape of a definition."""
    return SymbolInfo(
        name=sym.name,
        qualified_name=sym.qualified_name,
        kind=sym.kind,
        path=sym.path,
        start_line=sym.start_line,
        end_line=sym.end_line,
        signature=sym.signature,
        docstring=sym.docstring,
    )


class CodeNavigator:
    """Answers "where is X defined / used" and "what is around this line"."""

    def __init__(self, db: IndexDatabase, read_text: Callable[[str], str]) -> None:
        self._db = db
        self._read_text = read_text

    def symbols(self, rel: str) -> list[Symbol]:
        """A file's definitions in source order."""
        return self._db.symbols_in(rel)

    def find_definitions(self, name: str) -> list[Symbol]:
        """Definitions named `name` (or `Parent.name` / a qualified name), best guesses first."""
        if not name:
            return []
        tail = name.rsplit(".", 1)[-1]
        rows = self._db.definitions_named(tail)
        rows = [s for s in rows if s.name == tail] or rows
        if "." in name:
            rows = [s for s in rows if s.qualified_name.endswith(name)] or rows
        return rows

    def find_references(self, name: str) -> list[Reference]:
        """Every whole-word use of `name` in the files the parser saw referencing it."""
        if not name:
            return []
        tail = name.rsplit(".", 1)[-1]
        out: list[Reference] = []
        for path, kind in self._db.files_referencing(tail).items():
            try:
                text = self._read_text(path)
            except (OSError, ValueError):
                continue
            for line, col in find_occurrences(text, tail, MAX_REFERENCES - len(out)):
                out.append(Reference(tail, path, line, col, kind))
            if len(out) >= MAX_REFERENCES:
                break
        return out

    def analyze_position(self, rel: str, line: int) -> PositionContext:
        """Enclosing symbol, related definitions, references and chunks at a 1-based line."""
        entry = self._db.file_entry(rel)
        ctx = PositionContext(
            path=rel, line=line, language=None if entry is None else entry.language
        )
        if entry is None:
            return ctx
        syms = [s for s in self.symbols(rel) if s.start_line <= line <= s.end_line]
        if not syms:
            ctx.chunks = self._chunks(rel, line, [])
            return ctx
        # Innermost enclosing definition: smallest span, ties to the later start.
        enclosing = min(syms, key=lambda s: (s.end_line - s.start_line, -s.start_line))
        ctx.enclosing_symbol = symbol_info(enclosing)
        related = self._related(rel, enclosing)
        ctx.related_definitions = [symbol_info(s) for s in related]
        refs = [
            r
            for r in self.find_references(enclosing.name)
            if not (r.path == rel and enclosing.start_line <= r.line <= enclosing.end_line)
        ]
        ctx.references = [
            ReferenceInfo(name=r.name, path=r.path, line=r.line, col=r.col, kind=r.kind)
            for r in refs[:50]
        ]
        ctx.chunks = self._chunks(rel, line, related[:5])
        return ctx

    def _related(self, rel: str, enclosing: Symbol) -> list[Symbol]:
        """Definitions of the names the enclosing symbol's body uses (unambiguous ones)."""
        try:
            lines = self._read_text(rel).splitlines()[enclosing.start_line - 1 : enclosing.end_line]
        except (OSError, ValueError):
            lines = []
        names: dict[str, None] = {}
        for text_line in lines[1:] if len(lines) > 1 else lines:
            for name in _IDENT_RE.findall(text_line):
                if name != enclosing.name and len(name) > 2:
                    names.setdefault(name, None)
        related: list[Symbol] = []
        for name in list(names)[:300]:
            defs = [d for d in self.find_definitions(name) if d.name == name]
            if defs and len(defs) <= 5:
                # Prefer the definition in this file, then non-test files.
                defs.sort(key=lambda d: (d.path != rel, d.path))
                related.append(defs[0])
            if len(related) >= MAX_RELATED:
                break
        return related

    def _chunks(self, rel: str, line: int, related: list[Symbol]) -> list[ChunkHit]:
        """The chunk at the line (score 1), then the chunks defining `related` (1/rank)."""
        hits: list[ChunkHit] = []
        here = self._db.chunk_at(rel, line)
        if here is not None:
            hits.append(here)
        for rank, sym in enumerate(related, start=2):
            chunk = self._db.chunk_at(sym.path, sym.start_line)
            if chunk is not None:
                hits.append(chunk.model_copy(update={"score": round(1.0 / rank, 4)}))
        return hits
