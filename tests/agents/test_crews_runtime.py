"""How crews behave inside a server process: worker threads, concurrency, stdout."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from llmgenie.agents.crews import execute_crew
from llmgenie.contracts.runs import RunResult
from tests.agents.conftest import Harness, final
from tests.support.model_server import Reply


def test_crew_runs_in_a_worker_thread_of_an_event_loop_and_prints_nothing(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    """The language server runs crews via asyncio.to_thread; stdout is its protocol pipe."""
    harness.server.script(
        Reply.tool_call("list_symbols", {"path": "app/db.py"}), final("Three functions.")
    )
    ctx, env = harness.context("explain"), harness.env()

    async def main() -> RunResult:
        return await asyncio.to_thread(execute_crew, ctx, env)

    result = asyncio.run(main())
    assert result.message == "Three functions."
    assert capfd.readouterr().out == ""


def test_two_runs_at_once_keep_their_results_apart(harness: Harness) -> None:
    finding = {
        "path": "app/db.py",
        "start_line": 17,
        "end_line": 20,
        "rule": "PERF-quadratic-loop",
        "message": "nested scans",
    }
    harness.server.script(final("perf done", findings=[finding]), model="perf-run")
    harness.server.script(
        final(
            "docs done",
            edits=[
                {
                    "path": "app/db.py",
                    "old_text": "def connect(path):\n",
                    "new_text": 'def connect(path):\n    """Open the database."""\n',
                }
            ],
        ),
        model="docs-run",
    )
    harness.agent_models = {"performance": "openai/perf-run"}
    perf_env = harness.env()
    harness.agent_models = {"documentation": "openai/docs-run"}
    docs_env = harness.env()
    results: dict[str, RunResult] = {}
    errors: list[BaseException] = []

    def run(name: str, crew: str, env: object) -> None:
        try:
            results[name] = execute_crew(harness.context(crew), env)  # type: ignore[arg-type]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("perf", "performance", perf_env)),
        threading.Thread(target=run, args=("docs", "document", docs_env)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert results["perf"].message == "perf done" and results["perf"].edits == []
    assert [f.rule for f in results["perf"].findings] == ["PERF-quadratic-loop"]
    assert results["docs"].message == "docs done" and results["docs"].findings == []
    assert len(results["docs"].edits) == 1


def test_crewai_writes_nothing_to_the_user_data_dir(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stock CrewAI keeps a replay database in the user data dir; our crews must not."""
    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    harness.server.script(final("ok"))
    execute_crew(harness.context("explain"), harness.env())
    assert [p.relative_to(data_home) for p in data_home.rglob("*")] == []
