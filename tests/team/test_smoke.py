"""The team server starts on PostgreSQL and Redis and runs a headless crew."""

from __future__ import annotations

import time

import httpx

from tests.support.model_server import Reply
from tests.team.conftest import TeamServerProcess, final_answer


def test_headless_run_completes(team_server: TeamServerProcess) -> None:
    team_server.model.script(Reply.plain(final_answer("`add` sums two numbers.")))
    with team_server.api() as api:
        run = api.post(
            f"/teams/{team_server.team_id}/runs",
            json={
                "crew": "explain",
                "path": "calc.py",
                "files": {"calc.py": "def add(a, b):\n    return a + b\n"},
            },
        )
        assert run.status_code == 202, run.text
        run_id = run.json()["run_id"]
        deadline = time.monotonic() + 120
        while True:
            got = api.get(f"/teams/{team_server.team_id}/runs/{run_id}").json()
            if got["status"] in ("succeeded", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, team_server.logs()
            time.sleep(0.2)
        assert got["status"] == "succeeded", (got, team_server.logs()[-3000:])


def _feedback(metrics: str, crew: str, verdict: str) -> float:
    line = f'llmgenie_answer_feedback_total{{crew="{crew}",verdict="{verdict}"}} '
    found = [float(m.removeprefix(line)) for m in metrics.splitlines() if m.startswith(line)]
    return found[0] if found else 0.0


def test_a_verdict_on_a_team_run_is_audited_and_counted(team_server: TeamServerProcess) -> None:
    team_server.model.script(Reply.plain(final_answer("`sub` subtracts.")))
    team = team_server.team_id
    with team_server.api() as api:
        submitted = api.post(
            f"/teams/{team}/runs",
            json={"crew": "explain", "path": "calc.py", "files": {"calc.py": "def sub(a, b): ..."}},
        )
        assert submitted.status_code == 202, submitted.text
        run_id = submitted.json()["run_id"]
        before = _feedback(httpx.get(team_server.url + "/metrics").text, "explain", "unhelpful")
        verdict = {"verdict": "unhelpful", "comment": "it missed the point"}
        answered = api.post(f"/teams/{team}/runs/{run_id}/feedback", json=verdict)
        assert answered.status_code == 200, answered.text
        assert answered.json()["run_id"] == run_id
        after = _feedback(httpx.get(team_server.url + "/metrics").text, "explain", "unhelpful")
        assert after == before + 1
        records = api.get(f"/teams/{team}/audit", params={"run_id": run_id}).json()
        [record] = [r for r in records if r["action"] == "answer_feedback"]
        assert record["data"] == verdict and record["actor"] == team_server.admin_id
        bad = api.post(f"/teams/{team}/runs/{run_id}/feedback", json={"verdict": "meh"})
        assert bad.status_code == 422, bad.text
        unknown = api.post(f"/teams/{team}/runs/r-unknown/feedback", json={"verdict": "helpful"})
        assert unknown.status_code == 404, unknown.text
