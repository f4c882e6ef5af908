"""The team server starts on PostgreSQL and Redis and runs a headless crew."""

from __future__ import annotations

import time

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
