"""The cold index in two phases: every file is searchable by path and defined names before
tree-sitter has parsed it, the second phase fills in the rest, an interruption between them
resumes; and the grammar-free outline is checked against tree-sitter on real code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from llmgenie.config import load_settings
from llmgenie.context.outline import outline
from llmgenie.context.parser import parse_document
from llmgenie.contracts.progress import CancelToken, ProgressEvent
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.indexer import TWO_PHASE_MIN_FILES

FILES = TWO_PHASE_MIN_FILES + 50
SERVER = Path(__file__).resolve().parents[2] / "server"


def _repo(root: Path) -> None:
    for i in range(FILES):
        path = root / "pkg" / f"ledger_{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"class Ledger{i:03d}:\n"
            f"    def reconcile_account_{i:03d}(self, entries):\n"
            f"        return sum(entries) + {i}\n",
            encoding="utf-8",
        )


def test_files_are_searchable_by_name_before_they_are_parsed(tmp_path: Path) -> None:
    _repo(tmp_path)
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    stages: list[str] = []
    seen_early: dict[str, object] = {}

    with WorkspaceEngine.open(tmp_path, settings) as eng:

        def progress(event: ProgressEvent) -> None:
            if not stages or stages[-1] != event.stage:
                stages.append(event.stage)
            if event.stage == "symbols" and event.done == 0:  # first phase done, none parsed
                result = eng.search("reconcile_account_123", k=3)
                seen_early["files"] = [f.path for f in result.files]
                seen_early["chunks"] = list(result.chunks)
                seen_early["degraded"] = list(result.degraded)
                seen_early["definition"] = eng.find_definitions("reconcile_account_123")

        summary = eng.index(progress=progress)
        assert stages[:2] == ["lexical", "symbols"]
        early_files = seen_early["files"]
        assert isinstance(early_files, list) and early_files[0] == "pkg/ledger_123.py"
        assert seen_early["chunks"] == [], "no chunk exists before the parse"
        degraded = seen_early["degraded"]
        assert isinstance(degraded, list) and any("not parsed yet" in d for d in degraded)
        definition = seen_early["definition"]
        assert isinstance(definition, list) and definition[0].path == "pkg/ledger_123.py"
        assert definition[0].start_line == 2

        assert summary.indexed == FILES and not summary.cancelled
        after = eng.search("reconcile_account_123", k=3)
        assert after.files[0].path == "pkg/ledger_123.py"
        assert after.chunks and after.chunks[0].path == "pkg/ledger_123.py"
        assert not any("not parsed yet" in d for d in after.degraded)
        (method,) = [s for s in eng.symbols("pkg/ledger_123.py") if s.kind == "method"]
        assert (method.start_line, method.end_line) == (2, 3), "the parse replaced the outline"
        assert eng.health().symbols == FILES * 2


def test_a_pass_stopped_between_the_phases_resumes_with_the_parse(tmp_path: Path) -> None:
    _repo(tmp_path)
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    token = CancelToken()

    def progress(event: ProgressEvent) -> None:
        if event.stage == "symbols":
            token.cancel()

    with WorkspaceEngine.open(tmp_path, settings) as eng:
        first = eng.index(progress=progress, cancel=token)
        assert first.cancelled and first.indexed < FILES
        left = FILES - first.indexed
        assert any(f"{left} files not parsed yet" in d for d in eng.health().degraded)
    with WorkspaceEngine.open(tmp_path, settings) as eng:  # a new session, as after a restart
        second = eng.index()
        assert second.indexed == left and not second.cancelled
        assert not any("not parsed yet" in d for d in eng.health().degraded)
        assert eng.search("reconcile_account_207", k=1).chunks[0].path == "pkg/ledger_207.py"
        assert eng.index().indexed == 0, "nothing left to do"


def test_a_few_changed_files_are_parsed_in_one_phase(tmp_path: Path) -> None:
    _repo(tmp_path)
    settings = load_settings(tmp_path, index={"embeddings": "none"})
    with WorkspaceEngine.open(tmp_path, settings) as eng:
        eng.index()
        (tmp_path / "pkg" / "ledger_005.py").write_text("def audit_trail():\n    pass\n")
        stages: list[str] = []
        eng.index(progress=lambda e: stages.append(e.stage))
        assert set(stages) == {"index"}
        assert eng.search("audit_trail", k=1).chunks[0].path == "pkg/ledger_005.py"


def test_the_outline_finds_every_definition_tree_sitter_finds() -> None:
    """Recall against the real parser on this repository's own code: every function, method
    and class tree-sitter finds, the outline finds too (it may also see `def` in strings)."""
    missing: Counter[str] = Counter()
    extra = total = 0
    for path in sorted(SERVER.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        exact = Counter(
            s.name
            for s in parse_document(path.name, text).symbols
            if s.kind in ("function", "method", "class")
        )
        fast = Counter(s.name for s in outline("python", text))
        missing += exact - fast
        extra += sum((fast - exact).values())
        total += sum(exact.values())
    assert total > 1000
    assert not missing
    assert extra <= total // 100


def test_the_outline_reads_other_languages() -> None:
    cases = {
        "typescript": "export async function loadUser(id: string) {}\nexport class Store {}\n"
        "interface Props {}\n",
        "go": "package x\nfunc (s *Server) Handle(w int) {}\ntype Config struct{}\n"
        "func main() {}\n",
        "rust": "pub fn parse() {}\npub(crate) struct Token;\nimpl Token {}\ntrait Visit {}\n",
        "java": "public final class Invoice {\n  interface Line {}\n}\n",
    }
    names = {lang: [(s.name, s.kind) for s in outline(lang, text)] for lang, text in cases.items()}
    assert names["typescript"] == [
        ("loadUser", "function"),
        ("Store", "class"),
        ("Props", "interface"),
    ]
    assert names["go"] == [("Handle", "function"), ("Config", "type"), ("main", "function")]
    assert names["rust"] == [("parse", "function"), ("Token", "class"), ("Visit", "interface")]
    assert names["java"] == [("Invoice", "class"), ("Line", "interface")]
    assert outline("markdown", "def x():\n") == []
