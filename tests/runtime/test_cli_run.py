"""`llmgenie run` as a user runs it: a subprocess, real CrewAI, the scripted model server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.model_server import ModelServer, Reply


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmgenie", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_chat_run_prints_the_record_as_json_with_live_progress(
    scripted_llm_env: ModelServer, workspace: Path
) -> None:
    scripted_llm_env.script(Reply.stream(["`total` adds ", "the items up."], delay=0.01))
    scripted_llm_env.default_reply = Reply.plain("`total` adds the items up.")
    result = _run(
        "chat",
        str(workspace),
        "--file",
        "app.py",
        "--range",
        "13:17",
        "--prompt",
        "what does total do?",
        "--json",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout)
    assert record["status"] == "succeeded"
    assert record["request"]["range"] == {"start_line": 13, "end_line": 17}
    assert record["result"]["model"] == "openai/scripted-model"
    assert "adds the items up" in record["result"]["message"]
    assert "context analyzed" in result.stderr and "permissions checked" in result.stderr
    sent = scripted_llm_env.all_sent_text()
    assert "def total" in sent and "Pg!s3cr3t" not in sent

    verify = subprocess.run(
        [sys.executable, "-m", "llmgenie", "audit", "verify", str(workspace)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0
    assert verify.stdout.startswith("audit chain OK (")


def test_explain_returns_an_answer_with_an_undocumented_key_on_the_first_attempt(
    scripted_llm_env: ModelServer, workspace: Path
) -> None:
    """The answer of issue 13: one key more than documented ("summary"). It is the user's
    answer at once, not two re-asks and a failed run ("Extra inputs are not permitted")."""
    answer = {
        "message": "`total` adds the items up and returns the sum.",
        "summary": "sums a list",
        "edits": [],
        "findings": [],
    }
    scripted_llm_env.script(Reply.plain(json.dumps(answer)))
    result = _run("explain", str(workspace), "--file", "app.py", "--range", "13:17", "--json")

    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout)
    assert record["status"] == "succeeded"
    assert record["result"]["message"] == "`total` adds the items up and returns the sum."
    assert len(scripted_llm_env.chat_requests()) == 1
    assert "Extra inputs" not in result.stderr and "answer incomplete" not in result.stderr


def test_failing_models_exit_1_naming_the_error(
    scripted_llm_env: ModelServer, workspace: Path
) -> None:
    scripted_llm_env.default_reply = Reply.error(500, "provider down")
    result = _run("chat", str(workspace), "--prompt", "hi", env={"LLMGENIE_LLM__MAX_RETRIES": "0"})
    assert result.returncode == 1
    assert "run failed" in result.stderr and "provider down" in result.stderr


def test_no_model_configured_exits_2_with_the_how_to(workspace: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMGENIE_LLM__")}
    result = subprocess.run(
        [sys.executable, "-m", "llmgenie", "run", "explain", str(workspace), "--file", "app.py"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2
    assert "No model configured" in result.stderr
    assert result.stdout == ""


def test_bad_usage_exits_2(workspace: Path) -> None:
    assert _run("bogus", str(workspace)).returncode == 2
    bad_range = _run("explain", str(workspace), "--file", "app.py", "--range", "9:2")
    assert bad_range.returncode == 2
    assert "L1 <= L2" in bad_range.stderr


def test_llmgenie_runs_names_the_trace_of_a_traced_run(
    scripted_llm_env: ModelServer, workspace: Path, tmp_path: Path
) -> None:
    scripted_llm_env.default_reply = Reply.plain("`total` adds the items up.")
    traces = tmp_path / "traces"
    env = {k: v for k, v in os.environ.items() if k != "OTEL_SDK_DISABLED"}  # CrewAI's opt-out
    env["LLMGENIE_TRACE_DIR"] = str(traces)
    env["LLMGENIE_LOG_LEVEL"] = "debug"  # the run's own log events, on stderr
    ran = subprocess.run(
        [sys.executable, "-m", "llmgenie", "run", "chat", str(workspace), "--prompt", "hi",
         "--json", "--quiet"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    run_id = json.loads(ran.stdout)["run_id"]
    spans = [
        json.loads(line) for f in traces.glob("*.jsonl") for line in f.read_text().splitlines()
    ]
    (execute,) = [s for s in spans if s["name"] == "run.execute"]
    assert execute["service"] == "llmgenie-cli"
    assert execute["attributes"]["llmgenie.run_id"] == run_id
    assert any(s["name"] == "model.call" and s["trace_id"] == execute["trace_id"] for s in spans)
    # What the run logged (any module's events) names its trace and its run.
    logged = [json.loads(x) for x in ran.stderr.splitlines() if x.startswith("{")]
    in_run = [e for e in logged if e.get("trace_id") == execute["trace_id"]]
    assert in_run, ran.stderr[-3000:]
    assert all(e.get("run_id") == run_id for e in in_run), in_run

    def runs(*args: str) -> str:
        listed = subprocess.run(
            [sys.executable, "-m", "llmgenie", "runs", str(workspace), *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        return listed.stdout

    (row,) = [r for r in json.loads(runs("--json")) if r["run_id"] == run_id]
    assert row["trace_id"] == execute["trace_id"]
    assert f"trace {execute['trace_id']}" in runs()
