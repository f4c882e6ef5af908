"""Index data and agent data live apart: rebuilding or deleting the index never touches
the runs or the audit chain, and stores left in the index directory by older releases
are moved out before anything else opens them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from llmgenie.config import load_settings
from llmgenie.locations import locations_for
from llmgenie.store.store import AgentStore
from tests.support.model_server import ModelServer, Reply


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def _audit_records(workspace: Path) -> int:
    verify = _cli("audit", "verify", str(workspace), "--json")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(verify.stdout)
    assert report["ok"] is True
    return int(report["records"])


def test_a_rebuilt_index_keeps_the_runs_and_the_audit_chain(
    scripted_llm_env: ModelServer, workspace: Path
) -> None:
    answer = {"message": "`total` adds the items up.", "edits": [], "findings": []}
    scripted_llm_env.default_reply = Reply.plain(json.dumps(answer))
    run = _cli("run", "explain", str(workspace), "--file", "app.py", "--json", "--quiet")
    assert run.returncode == 0, run.stderr[-3000:]
    run_id = json.loads(run.stdout)["run_id"]
    records_before = _audit_records(workspace)
    assert records_before >= 2  # run_started, ..., run_finished

    where = locations_for(workspace, load_settings(workspace))
    assert where.agent_store.is_file() and not where.agent_store.is_relative_to(where.index_dir)
    rebuilt = _cli("index", str(workspace), "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "dropped the index" in rebuilt.stderr

    listed = _cli("runs", str(workspace), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["run_id"], r["crew"], r["status"]) for r in rows] == [
        (run_id, "explain", "succeeded")
    ]
    assert rows[0]["model"] == "openai/scripted-model" and rows[0]["seconds"] >= 0
    assert _audit_records(workspace) == records_before

    # Clearing the whole cache directory (what cleaning tools do) loses nothing either.
    shutil.rmtree(where.index_dir.parent.parent)
    assert _audit_records(workspace) == records_before
    shown = _cli("runs", str(workspace), "--id", run_id)
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "succeeded"


def test_a_store_in_the_old_location_is_moved_with_its_chain(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    settings = load_settings(workspace)
    where = locations_for(workspace, settings)
    # What releases before 0.2 left behind: the store inside the index directory, with
    # rows still in its write-ahead log (the process never checkpointed).
    where.legacy_agent_store.parent.mkdir(parents=True)
    old = AgentStore(where.legacy_agent_store)
    for n in range(3):
        old.audit.append("run_started", {"n": n}, run_id=f"r{n}")
    keeper = sqlite3.connect(where.legacy_agent_store)  # holds the WAL open, like a live process
    keeper.execute("PRAGMA wal_autocheckpoint=0")

    listed = _cli("audit", "verify", str(workspace), "--json")
    keeper.close()
    old.close()
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {
        "ok": True,
        "records": 3,
        "first_bad_seq": None,
        "reason": "",
        "anchored": 3,
        "notes": [],
        "store": str(where.agent_store),
    }
    assert where.agent_store.is_file() and not where.legacy_agent_store.exists()
    assert not Path(str(where.legacy_agent_store) + "-wal").exists()


def test_runs_of_a_workspace_without_any(tmp_path: Path) -> None:
    listed = _cli("runs", str(tmp_path), "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    assert _cli("runs", str(tmp_path)).stdout.strip() == "no runs yet"
    missing = _cli("runs", str(tmp_path), "--id", "nope")
    assert missing.returncode == 1 and "no run nope" in missing.stderr
