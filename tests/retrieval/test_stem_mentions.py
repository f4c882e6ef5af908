"""File-stem evidence: a word of the query that is a file's stem points at that file.

End to end on a small repository on disk (real parsing, real SQLite/FTS5), plus the
IDF-like weighting of `stem_mentions` on a files snapshot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.engine import WorkspaceEngine
from llmgenie.retrieval import hybrid
from llmgenie.retrieval.mentions import path_mentions, stem_mentions
from llmgenie.retrieval.query import analyze_query
from llmgenie.retrieval.snapshot import FileRow, FilesSnapshot

FILES: dict[str, str] = {
    "app/management/commands/sqlplan.py": '''
        """Print the statements of a plan."""

        from app.planner.executor import collect


        class Command:
            def handle(self, name: str) -> str:
                return "\\n".join(collect(name))
    ''',
    "app/planner/executor.py": '''
        """Run a plan's statements inside a database transaction."""

        from app.db.transaction import atomic


        def collect(name: str) -> list[str]:
            """Statements of the plan, wrapped in BEGIN/COMMIT when the database
            supports transactional DDL; the output keeps the wrapping."""
            statements = ["BEGIN"] + [f"-- {name}"] + ["COMMIT"]
            with atomic():
                return statements


        def output_statements(database: str, statements: list[str]) -> list[str]:
            """Wrap the output of the database statements in a transaction."""
            return ["BEGIN", *statements, "COMMIT"]
    ''',
    "app/db/transaction.py": '''
        """Database transactions: BEGIN, COMMIT, ROLLBACK."""

        from contextlib import contextmanager
        from collections.abc import Iterator


        @contextmanager
        def atomic() -> Iterator[None]:
            """Wrap the block in a database transaction (BEGIN ... COMMIT)."""
            yield
    ''',
    "tests/test_commands.py": """
        from app.management.commands.sqlplan import Command


        def test_sqlplan_output_wraps_transaction() -> None:
            out = Command().handle("sqlplan")
            assert out.startswith("BEGIN") and "COMMIT" in out
    """,
}

# Unrelated modules, so that word and stem frequencies look like a (small) real tree.
FILES.update(
    {
        f"app/feature{i}/handlers.py": f'''
        def handle_feature{i}(request: dict[str, str]) -> str:
            """Answer a request for feature {i}."""
            return request.get("name", "feature{i}")
        '''
        for i in range(12)
    }
)

ISSUE = textwrap.dedent(
    """
    sqlplan wraps its output in BEGIN/COMMIT even if the database doesn't support DDL

    The output of sqlplan is wrapped in BEGIN/COMMIT statements even when the database
    cannot roll back DDL, so the wrapping is misleading. sqlplan should only
    wrap the output when the database supports it.
    """
).strip()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[WorkspaceEngine]:
    root = tmp_path / "repo"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    eng = WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "none"}))
    eng.index()
    yield eng
    eng.close()


def test_issue_naming_a_command_by_its_stem_ranks_that_file_first(
    engine: WorkspaceEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = engine.search(ISSUE, k=5)
    assert result.files[0].path == "app/management/commands/sqlplan.py"
    assert any(r.signal == "stem" for r in result.files[0].reasons)
    # The fixture is a real test of the signal: without it, the file with the issue's
    # vocabulary (executor.py) comes first.
    monkeypatch.setattr(hybrid, "STEM_WEIGHT", 0.0)
    assert engine.search(ISSUE, k=5).files[0].path != "app/management/commands/sqlplan.py"


def _snapshot(paths: list[str]) -> FilesSnapshot:
    snap = FilesSnapshot()
    for fid, path in enumerate(paths, start=1):
        is_test = path.startswith("tests/")
        row = FileRow(fid, path, is_test, "python", 10)
        snap.by_id[fid] = row
        snap.by_path[path] = fid
        base = path.rsplit("/", 1)[-1]
        snap.by_basename.setdefault(base, []).append(fid)
        stem = base.split(".", 1)[0]
        snap.by_stem.setdefault(stem, []).append(fid)
        module = path.removesuffix(".py").replace("/", ".")
        snap.by_module[module] = fid
        snap.modules[fid] = module
    return snap


def test_stem_strength_falls_with_shared_stems_and_common_words() -> None:
    paths = [f"pkg/m{i}/utils.py" for i in range(20)]
    paths += ["pkg/db/autodetector.py", "pkg/db/lookups.py", "pkg/web/lookups.py", "pkg/x.py"]
    snap = _snapshot(paths)
    analysis = analyze_query("the autodetector and lookups call utils")
    df = {"autodetector": 3, "lookups": 3, "utils": 3}
    stems = stem_mentions(snap, analysis, df, total_chunks=10_000)
    by_path = {snap.by_id[fid].path: score for fid, (score, _) in stems.items()}
    # 20 files share `utils`: no evidence; two share `lookups`: weaker than a unique stem.
    assert not any(p.endswith("utils.py") for p in by_path)
    assert by_path["pkg/db/autodetector.py"] > by_path["pkg/db/lookups.py"] > 0
    # A word that is everywhere in the code is weak evidence even for a unique stem.
    common = stem_mentions(snap, analysis, {**df, "autodetector": 5_000}, total_chunks=10_000)
    fid = snap.by_path["pkg/db/autodetector.py"]
    assert common[fid][0] < stems[fid][0] / 4


def test_dotted_module_suffix_and_test_paths_in_tracebacks() -> None:
    snap = _snapshot(["pkg/db/models/lookups.py", "pkg/web/lookups.py", "tests/test_x.py"])
    analysis = analyze_query(
        'Using models.lookups fails\n  File "/site/tests/test_x.py", line 3\n'
        '  File "/site/pkg/web/lookups.py", line 9'
    )
    found = path_mentions(snap, analysis)
    assert snap.by_path["pkg/db/models/lookups.py"] in found
    # A test file in a traceback of an issue not about tests counts half.
    assert found[snap.by_path["tests/test_x.py"]][0] < found[snap.by_path["pkg/web/lookups.py"]][0]
