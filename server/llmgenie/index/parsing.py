"""The one place the index calls the parser (context package), so the seam stays narrow."""

from __future__ import annotations

from llmgenie.context.models import ParsedFile


def parse_text(rel_path: str, text: str, max_chunk_lines: int) -> ParsedFile:
    """Symbols, references, imports and chunks of one file's text."""
    from llmgenie.context.parser import parse_document

    return parse_document(rel_path, text, max_chunk_lines)
