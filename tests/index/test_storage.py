"""The catalog keeps each file's text once (compressed as a whole, chunk texts derived from
it by line range) and its FTS index consistent with it through edits, moves and deletions:
FTS5's own integrity-check, after every step, compares the index with the tokens re-derived
from the stored text."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from llmgenie.config import load_settings
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.catalog import BatchWriter, transaction
from llmgenie.index.payload import ChunkRow, FilePayload
from llmgenie.index.schema import CHUNK_FTS_TABLES, chunk_text, open_catalog, pack_text, unpack_text
from llmgenie.index.tokens import fts_text
from llmgenie.retrieval.lexical import chunk_postings


def _integrity(engine: WorkspaceEngine) -> None:
    """FTS5's structural check, then the index against the stored text: every term's
    document count in each chunk FTS table must equal what the chunk rows hold now (any:
    body and symbol tokens; sym: symbol tokens; symonly: symbol tokens not in the body),
    and the body postings search derives must be the rows whose text has the term. A
    delete that removed other tokens than were inserted leaves a stale or missing posting,
    and shows up here."""
    with engine.db.write() as conn:
        for table in (*CHUNK_FTS_TABLES, "files_fts"):
            conn.execute(f"INSERT INTO {table}({table}) VALUES('integrity-check')")
        expected: dict[str, Counter[str]] = {t: Counter() for t in CHUNK_FTS_TABLES}
        bodies: dict[str, set[int]] = {}
        rows = conn.execute(
            "SELECT c.id, c.sym_tokens, c.text, t.text, c.start_line, c.end_line FROM chunks c"
            " LEFT JOIN file_texts t ON t.file_id = c.file_id"
        ).fetchall()
        for cid, sym_tokens, own, whole, start, end in rows:
            body = set(fts_text(chunk_text(own, whole, start, end)).split())
            symbol = set(str(sym_tokens).split())
            expected["chunks_fts"].update(body | symbol)
            expected["chunks_sym_fts"].update(symbol)
            expected["chunks_symonly_fts"].update(symbol - body)
            for term in body:
                bodies.setdefault(term, set()).add(int(cid))
        for table in CHUNK_FTS_TABLES:
            conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_v"
                f" USING fts5vocab(main, {table}, row)"
            )
            actual = Counter(
                {str(term): int(doc)
                 for term, doc in conn.execute(f"SELECT term, doc FROM temp.{table}_v")}
            )  # fmt: skip
            assert actual == expected[table], table
        for term in ("original", "step", "value", "return", "step_1_3"):
            assert set(chunk_postings(conn, term)[1].tolist()) == bodies.get(term, set()), term


def _postings(engine: WorkspaceEngine, term: str) -> list[str]:
    with engine.db.snapshot() as view:
        ids = chunk_postings(view.conn, term)[1].tolist()
        marks = ",".join("?" * len(ids))
        rows = view.conn.execute(
            f"SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
    return sorted({str(r[0]) for r in rows})


def _chunk_texts(engine: WorkspaceEngine, rel: str) -> dict[tuple[int, int], str]:
    """(start, end) -> the chunk text the catalog gives back for each chunk of `rel`."""
    with engine.db.snapshot() as view:
        rows = view.conn.execute(
            "SELECT c.text, t.text, c.start_line, c.end_line FROM chunks c"
            " JOIN files f ON f.id = c.file_id LEFT JOIN file_texts t ON t.file_id = c.file_id"
            " WHERE f.path=?",
            (rel,),
        ).fetchall()
    assert all(own is None for own, _, _, _ in rows), "chunk text stored twice"
    return {(s, e): chunk_text(own, whole, s, e) for own, whole, s, e in rows}


def _expected_chunks(text: str, spans: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
    lines = text.split("\n")
    return {(s, e): "\n".join(lines[s - 1 : e]) for s, e in spans}


def _module(i: int, marker: str) -> str:
    return "\n\n".join(
        f"def step_{i}_{j}(value):\n    '''{marker} step {j}'''\n    return value + {j}\n"
        for j in range(12)
    )


def test_text_round_trips_through_storage() -> None:
    for text in ("", "plain", "ünïcödé ✓\n\tx", "\udcff lone surrogate", "x" * 100_000):
        assert unpack_text(pack_text(text)) == text
    assert len(pack_text("def f():\n    return 1\n" * 200)) < 200


def test_fts_index_stays_consistent_through_edits_moves_and_deletions(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"mod_{i:02d}.py").write_text(_module(i, "original"), encoding="utf-8")
    rng = random.Random(7)
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    with WorkspaceEngine.open(tmp_path, settings) as eng:
        eng.index()
        _integrity(eng)
        assert len(_postings(eng, "original")) == 20
        for step in range(40):
            i = rng.randrange(20)
            rel = f"mod_{i:02d}.py"
            text = eng.read_text(rel)
            action = rng.choice(["edit", "insert_top", "delete_part", "replace_all"])
            if action == "edit":  # one chunk's text changes
                text = text.replace("original", f"edited{step}", 1)
            elif action == "insert_top":  # every chunk moves down, none changes
                text = f"# moved {step}\n\n" + text
            elif action == "delete_part":
                text = text[: len(text) // 2]
            else:
                text = _module(i, f"rewritten{step}")
            eng.update_document(rel, text, step + 1)
            _integrity(eng)
            assert _chunk_texts(eng, rel) == _expected_chunks(text, _chunk_texts(eng, rel))
        eng.remove_document("mod_00.py")
        _integrity(eng)
        assert "mod_00.py" not in _postings(eng, "step")
        for rel in _postings(eng, "original"):
            assert "original" in eng.read_text(rel), f"{rel}: a stale posting survived"


def test_a_chunk_that_is_not_its_lines_keeps_its_own_text(tmp_path: Path) -> None:
    """The writer's fallback: without a whole-file text each chunk stores its own, and the
    FTS rows stay consistent when the file later gets a whole text (and loses it again)."""
    conn, _ = open_catalog(tmp_path / "catalog.sqlite3")

    def payload(body: str, whole: bool) -> FilePayload:
        chunk: ChunkRow = (1, 2, "f", "code", body, len(body), "f zeta", fts_text(body), 2)
        text = body + "\n"
        blob = pack_text(text) if whole else None
        return FilePayload("a.py", len(text), 1, body, chunks=[chunk], text_blob=blob)

    for body, whole in (("def f(): alpha", False), ("def f():\n  beta", True), ("gamma", False)):
        with transaction(conn):
            BatchWriter(conn).write([payload(body, whole)])
        for table in CHUNK_FTS_TABLES:
            conn.execute(f"INSERT INTO {table}({table}) VALUES('integrity-check')")
        rows = conn.execute(
            "SELECT c.text, t.text, c.start_line, c.end_line FROM chunks c"
            " LEFT JOIN file_texts t ON t.file_id = c.file_id"
        ).fetchall()
        assert [chunk_text(*row) for row in rows] == [body]
        assert (rows[0][0] is None) == whole
    conn.close()


def test_signatures_docstrings_and_qualified_names_come_back_whole(tmp_path: Path) -> None:
    """They are stored per file in one compressed blob (and a top-level name's qualified
    name as ''): every reader still sees the full strings, before and after an edit."""
    long_doc = "Tax on the amount.\n\n" + "\n".join(f"Example line {i}." for i in range(60))
    source = (
        "class Invoice:\n"
        "    def tax(self, amount: int, rate: float = 0.2) -> float:\n"
        f'        """{long_doc}"""\n'
        "        return amount * rate\n\n\n"
        "def plain(x):\n    return x\n"
    )
    (tmp_path / "inv.py").write_text(source, encoding="utf-8")
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    with WorkspaceEngine.open(tmp_path, settings) as eng:
        eng.index()
        for version in (1, 2):
            (tax,) = eng.find_definitions("tax")
            assert tax.qualified_name == "Invoice.tax"
            assert tax.docstring == long_doc
            assert "rate: float = 0.2" in tax.signature
            (plain,) = eng.find_definitions("plain")
            assert (plain.qualified_name, plain.docstring) == ("plain", "")
            assert plain.signature.startswith("def plain(x)")
            assert [s.name for s in eng.db.symbols_in("inv.py")] == ["Invoice", "tax", "plain"]
            eng.update_document("inv.py", "# edited\n" + source, version)


def test_reference_kinds_come_back_by_name(tmp_path: Path) -> None:
    """Reference kinds are stored as small integers; readers see the names."""
    (tmp_path / "a.py").write_text("def helper():\n    return 1\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("from a import helper\n\nhelper()\n", encoding="utf-8")
    (tmp_path / "c.py").write_text("from a import helper\n", encoding="utf-8")
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    with WorkspaceEngine.open(tmp_path, settings) as eng:
        eng.index()
        assert eng.db.files_referencing("helper") == {"b.py": "call", "c.py": "import"}
        assert {r.kind for r in eng.find_references("helper") if r.path == "c.py"} == {"import"}


def test_an_index_pass_gives_freed_pages_back(tmp_path: Path) -> None:
    """Replaced and deleted rows leave free pages; the pass returns them to the file system
    (incremental auto-vacuum), so the catalog does not stay at its largest size."""
    for i in range(30):
        (tmp_path / f"mod_{i:02d}.py").write_text(_module(i, "original" * 50), encoding="utf-8")
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    with WorkspaceEngine.open(tmp_path, settings) as eng:
        eng.index()
        for i in range(30):
            (tmp_path / f"mod_{i:02d}.py").unlink()
        eng.index()
        with eng.db.write() as conn:
            assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
            assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM file_texts").fetchone()[0] == 0


def test_an_outdated_catalog_is_replaced_not_kept(tmp_path: Path) -> None:
    """A schema change rebuilds the catalog; the old file is deleted (a corrupt one is kept
    for diagnosis), so an upgrade does not leave a second index on disk."""
    path = tmp_path / "catalog.sqlite3"
    conn, _ = open_catalog(path)
    conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.close()
    conn, rebuilt = open_catalog(path)
    conn.close()
    assert rebuilt is not None and "schema version 1" in rebuilt
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []
