"""The audit log is append-only and tamper-evident; `llmgenie audit verify` reports it."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from llmgenie.config import load_settings
from llmgenie.locations import locations_for
from llmgenie.store.store import AgentStore


@pytest.fixture
def store(tmp_path: Path) -> AgentStore:
    ws = tmp_path / "ws"
    ws.mkdir()
    s = AgentStore.for_workspace(ws, load_settings(ws))
    s.audit.append("run_started", {"crew": "explain"}, actor="user", run_id="r1")
    s.audit.append("tool_called", {"agent": "security", "tool": "read_file"}, run_id="r1")
    s.audit.append("model_used", {"model": "openai/x", "prompt_tokens": 12}, run_id="r1")
    s.audit.append("run_finished", {"status": "succeeded"}, run_id="r1")
    return s


def _raw(store: AgentStore) -> sqlite3.Connection:
    conn = sqlite3.connect(store.path, isolation_level=None)
    # an attacker with file access can drop the guards; the chain still tells
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return conn


def test_an_untouched_chain_verifies(store: AgentStore) -> None:
    report = store.audit.verify_chain()
    assert report.ok and report.records == 4
    records = list(store.audit.records())
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))


def test_in_place_edits_are_refused_by_the_store(store: AgentStore) -> None:
    conn = sqlite3.connect(store.path, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq = 2")


def test_a_modified_row_is_named(store: AgentStore) -> None:
    _raw(store).execute(
        "UPDATE audit_log SET data = ? WHERE seq = 3", ('{"model":"openai/x","prompt_tokens":1}',)
    )
    report = store.audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "modified" in report.reason


def test_a_deleted_row_is_detected(store: AgentStore) -> None:
    _raw(store).execute("DELETE FROM audit_log WHERE seq = 2")
    report = store.audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 3


def test_a_rehashed_row_still_breaks_the_link_to_the_next(store: AgentStore) -> None:
    from llmgenie.store.audit import row_hash

    conn = _raw(store)
    seq, ts, run_id, actor, action, _data, prev = conn.execute(
        "SELECT seq, ts, run_id, actor, action, data, prev_hash FROM audit_log WHERE seq = 2"
    ).fetchone()
    forged = '{"agent":"security","tool":"search_code"}'
    digest = row_hash(prev, seq, ts, run_id, actor, action, forged)
    conn.execute("UPDATE audit_log SET data = ?, hash = ? WHERE seq = 2", (forged, digest))
    report = store.audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 3


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_cli_audit_verify_ok_then_tampered(store: AgentStore, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ok = _cli("audit", "verify", str(ws))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "audit chain OK (4 records; the anchor matches)"
    _raw(store).execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    broken = _cli("audit", "verify", cwd=ws)  # PATH defaults to the current directory
    assert broken.returncode == 1
    assert "record 2" in broken.stdout


def test_cli_audit_verify_on_a_workspace_without_runs(tmp_path: Path) -> None:
    result = _cli("audit", "verify", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.strip() == "audit chain OK (0 records)"
    assert not locations_for(tmp_path, load_settings(tmp_path)).agent_store.exists()


def _rechain(conn: sqlite3.Connection, start: int = 1) -> None:
    """Recompute every hash from `start` on, as an attacker without the anchor key would."""
    from llmgenie.store.audit import GENESIS_HASH, row_hash

    prev = GENESIS_HASH
    rows = conn.execute(
        "SELECT seq, ts, run_id, actor, action, data, hash FROM audit_log ORDER BY seq"
    ).fetchall()
    for seq, ts, run_id, actor, action, data, digest in rows:
        if seq >= start:
            digest = row_hash(prev, seq, ts, run_id, actor, action, data)
            conn.execute(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq)
            )
        prev = digest


def test_deleting_the_last_records_is_reported(store: AgentStore) -> None:
    _raw(store).execute("DELETE FROM audit_log WHERE seq >= 3")
    report = store.audit.verify_chain()
    assert not report.ok and report.records == 2 and report.anchored == 4
    assert report.reason == "records 3..4 are missing (the log was truncated)"


def test_deleting_every_record_is_reported(store: AgentStore, tmp_path: Path) -> None:
    _raw(store).execute("DELETE FROM audit_log")
    result = _cli("audit", "verify", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert "all 4 records are missing" in result.stdout


def test_a_deleted_store_is_reported(store: AgentStore, tmp_path: Path) -> None:
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(store.path) + suffix).unlink(missing_ok=True)
    result = _cli("audit", "verify", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "audit chain BROKEN: the audit store is missing (its anchor vouches for 4 records)"
    )


def test_an_edit_with_the_chain_recomputed_is_reported(store: AgentStore) -> None:
    conn = _raw(store)
    conn.execute("UPDATE audit_log SET data = ? WHERE seq = 2", ('{"tool":"nothing"}',))
    _rechain(conn, start=2)
    report = store.audit.verify_chain()
    assert not report.ok
    assert "rewritten" in report.reason


def test_a_forged_or_deleted_anchor_is_reported(store: AgentStore) -> None:
    from llmgenie.store.anchor import AnchorFile

    anchor = AnchorFile(store.path)
    anchor.path.write_text('{"count": 4, "head": "00", "mac": "ff"}', encoding="utf-8")
    assert "does not match its MAC" in store.audit.verify_chain().reason
    anchor.path.unlink()
    assert "no anchor for these 4 records" in store.audit.verify_chain().reason
    store.audit.append("run_started", {"crew": "review"}, run_id="r2")  # re-anchors, noted
    report = store.audit.verify_chain()
    assert report.ok and report.notes == [
        "record 5: an anchor was created for 4 unanchored records"
        " (a log from before anchors, or its anchor was deleted)"
    ]


def test_a_truncation_is_recorded_by_the_next_append(store: AgentStore) -> None:
    _raw(store).execute("DELETE FROM audit_log WHERE seq = 4")
    store.audit.append("run_started", {"crew": "review"}, run_id="r2")
    actions = [r.action for r in store.audit.records()]
    assert actions == [*actions[:3], "audit_anchor_mismatch", "run_started"]
    report = store.audit.verify_chain()
    assert not report.ok and "record 4: the anchor did not match" in report.reason


APPENDER = """
import sys
from pathlib import Path
from llmgenie.store.store import AgentStore
store = AgentStore(Path(sys.argv[1]))
for i in range(40):
    store.audit.append("tool_called", {"i": i, "writer": sys.argv[2]}, run_id=sys.argv[2])
store.close()
"""


def test_two_processes_appending_at_once_keep_one_valid_chain(store: AgentStore) -> None:
    """The editor's server and a CLI run can share a workspace's log."""
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(store.path), name])
        for name in ("lsp", "cli")
    ]
    for proc in procs:
        assert proc.wait(120) == 0
    report = store.audit.verify_chain()
    assert report.ok, report.reason
    assert report.records == 4 + 80
