"""WorkspaceEngine end to end on a small multi-language repository built on disk.

Real parsing, real SQLite/FTS5, no mocks: queries must rank the right files and symbols
first, edits and deletions must show up after incremental updates, an interrupted index
must resume, and a damaged catalog must be detected and rebuilt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.contracts.progress import CancelToken, ProgressEvent
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.schema import chunk_text

FILES: dict[str, str] = {
    "src/payments/invoice.py": '''
        """Invoice arithmetic."""

        from decimal import Decimal


        class InvoiceCalculator:
            """Totals for an invoice, tax included."""

            def __init__(self, rate: Decimal) -> None:
                self.rate = rate

            def compute_tax_total(self, lines: list[Decimal]) -> Decimal:
                subtotal = sum(lines, Decimal(0))
                return subtotal + subtotal * self.rate


        def apply_discount(total: Decimal, percent: int) -> Decimal:
            return total - total * Decimal(percent) / 100
    ''',
    "src/auth/session_store.py": '''
        """Server-side sessions."""


        class SessionStore:
            def __init__(self) -> None:
                self._sessions: dict[str, str] = {}

            def refresh_token(self, session_id: str) -> str:
                token = session_id[::-1]
                self._sessions[session_id] = token
                return token
    ''',
    "web/client.ts": """
        export class HttpRetryClient {
          constructor(private readonly baseUrl: string) {}

          async fetchWithBackoff(path: string, attempts: number): Promise<Response> {
            let delay = 100;
            for (let i = 0; i < attempts; i++) {
              const res = await fetch(this.baseUrl + path);
              if (res.ok) return res;
              await new Promise((r) => setTimeout(r, delay));
              delay *= 2;
            }
            throw new Error("retries exhausted");
          }
        }
    """,
    "svc/ratelimit.go": """
        package svc

        // TokenBucket refills tokens at a fixed rate for rate limiting.
        type TokenBucket struct {
            capacity int
            tokens   int
        }

        func NewTokenBucket(capacity int) *TokenBucket {
            return &TokenBucket{capacity: capacity, tokens: capacity}
        }

        func (b *TokenBucket) Allow() bool {
            if b.tokens == 0 {
                return false
            }
            b.tokens--
            return true
        }
    """,
    "deploy/config.yaml": """
        server:
          port: 8080
          replicas: 3
        database:
          pool_size: 20
    """,
    "docs/guide.md": """
        # Operations guide

        ## Rotating API keys

        Rotate credentials every ninety days; revoke the old key after the rollout.

        ## Scaling replicas

        Raise the replica count in the deployment config.
    """,
    "tests/test_invoice.py": """
        from payments.invoice import InvoiceCalculator


        def test_compute_tax_total():
            calc = InvoiceCalculator(rate=0)
            assert calc.compute_tax_total([]) == 0
    """,
}


def write_repo(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_repo(root, FILES)
    return root


@pytest.fixture
def engine(repo: Path) -> WorkspaceEngine:
    settings = load_settings(repo, index={"embeddings": "none"})
    eng = WorkspaceEngine.open(repo, settings)
    eng.index()
    yield eng
    eng.close()


def top_file(engine: WorkspaceEngine, query: str) -> str:
    result = engine.search(query, k=5)
    assert result.files, f"no results for {query!r}"
    return result.files[0].path


def test_index_summary_counts_files_symbols_and_chunks(repo: Path) -> None:
    settings = load_settings(repo, index={"embeddings": "none"})
    with WorkspaceEngine.open(repo, settings) as eng:
        summary = eng.index()
        assert summary.files == len(FILES)
        assert summary.indexed == len(FILES)
        assert summary.symbols >= 10
        assert summary.chunks >= len(FILES)
        again = eng.index()
        assert again.indexed == 0 and again.files == len(FILES)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("compute the tax total of an invoice", "src/payments/invoice.py"),
        ("HttpRetryClient fetchWithBackoff", "web/client.ts"),
        ("token bucket rate limiting", "svc/ratelimit.go"),
        ("how do I rotate API keys", "docs/guide.md"),
        ("database pool_size", "deploy/config.yaml"),
        ("refresh_token for a session", "src/auth/session_store.py"),
    ],
)
def test_queries_rank_the_right_file_first(
    engine: WorkspaceEngine, query: str, expected: str
) -> None:
    assert top_file(engine, query) == expected


def test_issue_text_prefers_the_source_file_over_its_test(engine: WorkspaceEngine) -> None:
    issue = (
        "InvoiceCalculator.compute_tax_total ignores discounts\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/app/src/payments/invoice.py", line 12, in compute_tax_total\n'
        "TypeError: unsupported operand\n"
    )
    result = engine.search(issue, k=5)
    paths = [f.path for f in result.files]
    assert paths[0] == "src/payments/invoice.py"
    assert paths.index("tests/test_invoice.py") > 0
    signals = {r.signal for r in result.files[0].reasons}
    assert {"path", "symbols"} <= signals
    top_chunk = result.chunks[0]
    assert top_chunk.path == "src/payments/invoice.py"
    definition = engine.find_definitions("compute_tax_total")[0]
    assert top_chunk.start_line <= definition.start_line <= top_chunk.end_line


def test_update_document_is_searchable_immediately(engine: WorkspaceEngine) -> None:
    text = engine.read_text("src/auth/session_store.py") + (
        "\n\ndef revoke_all_sessions(store: SessionStore) -> None:\n    store._sessions.clear()\n"
    )
    engine.update_document("src/auth/session_store.py", text)
    assert top_file(engine, "revoke_all_sessions") == "src/auth/session_store.py"
    assert [s.path for s in engine.find_definitions("revoke_all_sessions")] == [
        "src/auth/session_store.py"
    ]
    assert engine.read_text("src/auth/session_store.py") == text
    # The buffer wins over disk until it is closed; closing re-reads the file.
    engine.index()
    assert engine.find_definitions("revoke_all_sessions")
    engine.close_document("src/auth/session_store.py")
    assert engine.find_definitions("revoke_all_sessions") == []


def test_disk_edits_and_deletions_are_reflected_after_index(
    engine: WorkspaceEngine, repo: Path
) -> None:
    (repo / "svc" / "ratelimit.go").unlink()
    (repo / "src" / "payments" / "refunds.py").write_text(
        "def issue_partial_refund(amount):\n    return -amount\n", encoding="utf-8"
    )
    summary = engine.index()
    assert summary.removed == 1 and summary.indexed == 1
    assert engine.find_definitions("NewTokenBucket") == []
    assert all(f.path != "svc/ratelimit.go" for f in engine.search("TokenBucket Allow").files)
    assert top_file(engine, "partial refund") == "src/payments/refunds.py"
    assert engine.health(check_stale=True).stale_files == []


def test_remove_and_refresh_paths(engine: WorkspaceEngine, repo: Path) -> None:
    engine.remove_document("web/client.ts")
    assert engine.find_definitions("HttpRetryClient") == []
    engine.refresh_paths(["web/client.ts"])
    assert [s.path for s in engine.find_definitions("HttpRetryClient")] == ["web/client.ts"]
    (repo / "web" / "client.ts").unlink()
    engine.refresh_paths(["web/client.ts"])
    assert engine.find_definitions("HttpRetryClient") == []


def test_paths_outside_the_root_are_refused(engine: WorkspaceEngine) -> None:
    with pytest.raises(ValueError):
        engine.read_text("../outside.txt")
    with pytest.raises(ValueError):
        engine.update_document("../../etc/passwd", "x")


def test_analyze_position_finds_enclosing_symbol_related_defs_and_references(
    engine: WorkspaceEngine,
) -> None:
    ctx = engine.analyze_position("tests/test_invoice.py", 5)
    assert ctx.enclosing_symbol is not None
    assert ctx.enclosing_symbol.name == "test_compute_tax_total"
    related = {d.name for d in ctx.related_definitions}
    assert {"InvoiceCalculator", "compute_tax_total"} <= related
    assert ctx.chunks and ctx.chunks[0].path == "tests/test_invoice.py"
    ctx2 = engine.analyze_position("src/payments/invoice.py", 14)
    assert ctx2.enclosing_symbol is not None and ctx2.enclosing_symbol.name == "compute_tax_total"
    assert any(r.path == "tests/test_invoice.py" for r in ctx2.references)


def test_symbols_definitions_references_and_repo_map(engine: WorkspaceEngine) -> None:
    names = [s.name for s in engine.symbols("src/payments/invoice.py")]
    assert {"InvoiceCalculator", "compute_tax_total", "apply_discount"} <= set(names)
    refs = engine.find_references("InvoiceCalculator")
    assert any(r.path == "tests/test_invoice.py" and r.line >= 1 for r in refs)
    text = engine.repo_map(focus="src/payments/invoice.py", tokens=200)
    assert text.startswith("src/payments/invoice.py")
    assert "compute_tax_total" in text
    assert len(text) <= 200 * 4 + 100
    assert engine.repo_map(focus="token bucket rate limiting", tokens=60).startswith(
        "svc/ratelimit.go"
    )
    small = engine.repo_map(tokens=30)
    assert len(small) < len(engine.repo_map(tokens=2000))


def test_health_reports_counts_stale_files_and_degraded_embeddings(
    engine: WorkspaceEngine, repo: Path
) -> None:
    health = engine.health()
    assert health.files == len(FILES) and health.symbols > 0 and health.chunks > 0
    assert health.vectors == 0
    assert any("dense retrieval off" in d for d in health.degraded)
    (repo / "docs" / "guide.md").write_text("# changed\n", encoding="utf-8")
    assert engine.health(check_stale=True).stale_files == ["docs/guide.md"]


def test_cancelled_index_resumes_where_it_stopped(tmp_path: Path) -> None:
    root = tmp_path / "many"
    write_repo(
        root,
        {f"pkg/mod_{i:03d}.py": f"def function_{i:03d}():\n    return {i}\n" for i in range(150)},
    )
    settings = load_settings(root, index={"embeddings": "none"})
    token = CancelToken()

    def progress(event: ProgressEvent) -> None:
        if event.done > 0:
            token.cancel()

    with WorkspaceEngine.open(root, settings) as eng:
        first = eng.index(progress=progress, cancel=token)
        assert first.cancelled
        assert 0 < first.files < 150
        second = eng.index()
        assert second.indexed == 150 - first.files
        assert second.files == 150
        assert top_file(eng, "function_149") == "pkg/mod_149.py"


def test_killed_index_leaves_a_consistent_catalog_that_resumes(tmp_path: Path) -> None:
    root = tmp_path / "big"
    body = "\n".join(f"def helper_{j}(x):\n    return x + {j}\n" for j in range(40))
    write_repo(root, {f"pkg/m{i:04d}.py": body for i in range(800)})
    script = (
        "import sys; from pathlib import Path; from llmgenie.config import load_settings;"
        "from llmgenie.engine import WorkspaceEngine;"
        "root = Path(sys.argv[1]);"
        "e = WorkspaceEngine.open(root, load_settings(root, index={'embeddings': 'none'}));"
        "e.index()"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)], env=os.environ.copy())
    time.sleep(2.5)
    proc.kill()
    proc.wait()
    # Its parse workers notice the parent is gone and exit (no orphans left running).
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(root)) == []
    settings = load_settings(root, index={"embeddings": "none"})
    with WorkspaceEngine.open(root, settings) as eng:
        summary = eng.index()
        assert summary.files == 800
        health = eng.health(check_stale=True)
        assert health.stale_files == []
        assert health.symbols == 800 * 40
        assert [s.path for s in eng.find_definitions("helper_7")][:1] == ["pkg/m0000.py"]


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def test_truncated_catalog_is_detected_and_rebuilt(repo: Path) -> None:
    settings = load_settings(repo, index={"embeddings": "none"})
    with WorkspaceEngine.open(repo, settings) as eng:
        eng.index()
        catalog_path = eng.layout.catalog_path
    size = catalog_path.stat().st_size
    with catalog_path.open("r+b") as fh:
        fh.truncate(size // 2)
    with WorkspaceEngine.open(repo, settings) as eng:
        assert any("rebuilt" in d for d in eng.health().degraded)
        eng.index()
        assert top_file(eng, "HttpRetryClient") == "web/client.ts"
    assert list(catalog_path.parent.glob("*.corrupt-*"))


def test_garbage_catalog_is_rebuilt(repo: Path) -> None:
    settings = load_settings(repo, index={"embeddings": "none"})
    with WorkspaceEngine.open(repo, settings) as eng:
        path = eng.layout.catalog_path
    path.write_bytes(b"this is not a database" * 100)
    with WorkspaceEngine.open(repo, settings) as eng:
        assert eng.index().files == len(FILES)


def test_editing_one_function_keeps_the_other_chunks_rows(engine: WorkspaceEngine) -> None:
    rel = "src/payments/invoice.py"

    def chunk_rows() -> dict[int, tuple[int, int, str]]:
        with engine.db.snapshot() as view:
            rows = view.conn.execute(
                "SELECT c.id, c.start_line, c.end_line, c.text, t.text FROM chunks c JOIN files f"
                " ON f.id = c.file_id LEFT JOIN file_texts t ON t.file_id = c.file_id"
                " WHERE f.path=?",
                (rel,),
            ).fetchall()
        return {
            int(r[0]): (int(r[1]), int(r[2]), chunk_text(r[3], r[4], int(r[1]), int(r[2])))
            for r in rows
        }

    before = chunk_rows()
    text = engine.read_text(rel)
    edited = text.replace("return total - total", "return total - 2 * total")
    engine.update_document(rel, "# header line\n" + edited)
    after = chunk_rows()
    kept = set(before) & set(after)
    assert kept, "unchanged chunks should keep their rows"
    for cid in kept:
        # Same text, shifted one line down by the inserted header.
        assert after[cid][2] == before[cid][2]
        assert after[cid][0] == before[cid][0] + 1
    assert any("2 * total" in t for _, _, t in after.values())
    assert top_file(engine, "apply_discount") == rel


def test_searches_racing_writes_always_see_one_consistent_index(
    engine: WorkspaceEngine,
) -> None:
    """Each search reads one index state: files added and removed by a writer thread
    meanwhile never make it fail (no retry hides it) or return a file from a half-written
    state."""
    import threading

    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                rel = f"gen/racer_{n % 7}.py"
                engine.update_document(rel, f"def racer_function_{n}():\n    return {n}\n")
                if n % 3 == 0:
                    engine.remove_document(f"gen/racer_{(n + 3) % 7}.py")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for i in range(150):
            result = engine.search(f"InvoiceCalculator compute_tax_total racer_function_{i}")
            # The stable file stays on top while generated ones come and go around it.
            assert result.files[0].path == "src/payments/invoice.py"
            assert result.chunks and result.chunks[0].path == "src/payments/invoice.py"
    finally:
        stop.set()
        thread.join(30)
    assert errors == []
