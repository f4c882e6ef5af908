"""A user's verdict on an answer (the chat's thumbs): `llmgenie/runs/feedback` through a real
client, audited with the run and counted on the server's opt-in /metrics by crew and verdict."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pygls.exceptions import JsonRpcException

from llmgenie.contracts import ids
from tests.lsp.conftest import start_editor
from tests.lsp.test_agent_runs import MODEL, final
from tests.support.model_server import ModelServer
from tests.team.conftest import _free_port

FEEDBACK = "llmgenie_answer_feedback_total"


def _feedback_counts(page: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["crew"], sample.labels["verdict"]): sample.value
        for family in text_string_to_metric_families(page)
        if family.name == FEEDBACK.removesuffix("_total")
        for sample in family.samples
        if sample.name == FEEDBACK
    }


def _audit(workspace: Path, run_id: str) -> list[dict[str, object]]:
    shown = subprocess.run(
        [sys.executable, "-m", "llmgenie", "audit", "show", str(workspace), "--run", run_id],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in shown.stdout.splitlines()]


async def test_a_verdict_on_an_answer_is_audited_and_counted(
    workspace: Path, model_server: ModelServer
) -> None:
    port = _free_port()
    options = {"model": MODEL, "apiBase": model_server.url, "apiKey": "sk-test-scripted-0000"}
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    model_server.script(final("`compute_tax` rounds the tax up to the cent."))
    args = ("--metrics", f"127.0.0.1:{port}")
    async with start_editor(workspace, options=options, env=env, args=args) as editor:
        started = await editor.command(
            "llmgenie.runCrew", {"crew": "explain", "uri": editor.uri("billing.py")}
        )
        run_id = started["runId"]
        await editor.wait_until(
            lambda: any(e["runId"] == run_id and e["kind"] == "result" for e in editor.run_events),
            120,
            "the run's result",
        )
        answer = await editor.request(
            ids.METHOD_RUNS_FEEDBACK,
            {"runId": run_id, "verdict": "helpful", "comment": "exactly what I needed"},
        )
        assert answer == {"recorded": True}
        async with httpx.AsyncClient() as client:
            page = (await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)).text
        assert _feedback_counts(page) == {("explain", "helpful"): 1.0}, page
        with pytest.raises(JsonRpcException, match="Unknown run"):
            await editor.request(ids.METHOD_RUNS_FEEDBACK, {"runId": "nope", "verdict": "helpful"})
        with pytest.raises(JsonRpcException, match="verdict"):
            await editor.request(ids.METHOD_RUNS_FEEDBACK, {"runId": run_id, "verdict": "meh"})
    records = await asyncio.to_thread(_audit, workspace, run_id)
    feedback = [r for r in records if r["action"] == "answer_feedback"]
    assert len(feedback) == 1, records
    assert feedback[0]["actor"] == "user"
    assert feedback[0]["data"] == {"verdict": "helpful", "comment": "exactly what I needed"}
