"""The catalog keeps each chunk's text once (compressed) and its FTS index consistent with it
through edits, moves and deletions: FTS5's own integrity-check, after every step, compares
the index with the tokens re-derived from the stored text."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from llmgenie.config import load_settings
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.schema import pack_text, unpack_text
from llmgenie.index.tokens import fts_text


def _integrity(engine: WorkspaceEngine) -> None:
    """FTS5's structural check, then the index against the stored text: every (term, column)
    document count must equal what the chunk rows hold now. A delete that removed other
    tokens than were inserted leaves a stale or missing posting, and shows up here."""
    with engine.db.write() as conn:
        conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
        conn.execute("INSERT INTO files_fts(files_fts) VALUES('integrity-check')")
        expected: Counter[tuple[str, str]] = Counter()
        for sym_tokens, stored in conn.execute("SELECT sym_tokens, text FROM chunks"):
            expected.update(("symbol", t) for t in set(str(sym_tokens).split()))
            expected.update(("body", t) for t in set(fts_text(unpack_text(stored)).split()))
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.check_vocab"
            " USING fts5vocab(main, chunks_fts, col)"
        )
        actual = Counter(
            {(str(col), str(term)): int(doc)
             for term, col, doc in conn.execute("SELECT term, col, doc FROM temp.check_vocab")}
        )  # fmt: skip
    assert actual == expected


def _postings(engine: WorkspaceEngine, term: str) -> list[str]:
    with engine.db.snapshot() as view:
        rows = view.conn.execute(
            "SELECT f.path FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid"
            " JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ?",
            (f'body : "{term}"',),
        ).fetchall()
    return sorted({str(r[0]) for r in rows})


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
        eng.remove_document("mod_00.py")
        _integrity(eng)
        assert "mod_00.py" not in _postings(eng, "step")
        for rel in _postings(eng, "original"):
            assert "original" in eng.read_text(rel), f"{rel}: a stale posting survived"
