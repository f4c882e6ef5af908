"""Python extraction: symbols, qualified names, docstrings, references, imports."""

from __future__ import annotations

from llmgenie.context.parser import parse_document

SOURCE = '''"""Module doc."""
import os.path as osp
from ..pkg.sub import helper as h, other

LIMIT = 10


@decorator
class Store(Base):
    """Keeps things.

    Second paragraph.
    """

    size: int = 0

    async def put(self, key: str, value: Item) -> None:
        """Put a value."""
        helper(key)
        self.flush()

    def flush(self):
        pass


def main(argv=None):
    def inner():
        return Store()

    return inner()
'''


def test_python_symbols_have_qualified_names_kinds_and_ranges() -> None:
    parsed = parse_document("app/store.py", SOURCE)
    by_name = {s.qualified_name: s for s in parsed.symbols}
    assert set(by_name) >= {
        "LIMIT",
        "Store",
        "Store.size",
        "Store.put",
        "Store.flush",
        "main",
        "main.inner",
    }
    store = by_name["Store"]
    assert (store.kind, store.start_line, store.end_line) == ("class", 8, 23)
    assert store.signature == "class Store(Base)"
    assert store.docstring == "Keeps things.\n\nSecond paragraph."
    put = by_name["Store.put"]
    assert put.kind == "method" and put.parent == "Store"
    assert put.signature == "async def put(self, key: str, value: Item) -> None"
    assert put.docstring == "Put a value."
    assert by_name["main.inner"].parent == "main"
    assert by_name["main"].kind == "function"


def test_python_references_and_imports() -> None:
    parsed = parse_document("app/store.py", SOURCE)
    refs = {(r.name, r.kind) for r in parsed.references}
    assert {
        ("helper", "call"),
        ("flush", "call"),
        ("Store", "call"),
        ("Base", "type"),
        ("Item", "type"),
        ("helper", "import"),
        ("other", "import"),
    } <= refs
    assert parsed.imports == ["os.path", "..pkg.sub"]
    assert not parsed.has_errors


def test_syntax_errors_are_flagged_not_raised() -> None:
    parsed = parse_document("bad.py", "def broken(:\n    pass\nclass Ok:\n    pass\n")
    assert parsed.has_errors
    assert "Ok" in {s.name for s in parsed.symbols}


def test_unknown_language_gets_windows_only() -> None:
    text = "\n".join(f"line {i}" for i in range(130))
    parsed = parse_document("notes.txt", text, max_chunk_lines=50)
    assert parsed.language is None and parsed.symbols == []
    assert [(c.start_line, c.end_line) for c in parsed.chunks] == [(1, 44), (45, 88), (89, 130)]
