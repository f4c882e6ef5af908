"""An editor delegates a security review to the team server, end to end.

A real `llmgenie serve` driven by pytest-lsp, connected to a real `llmgenie team serve`
on PostgreSQL and Redis, whose agents talk to the scripted model server. The finding comes
back as a diagnostic, the team's audit chain verifies, the model saw no secret of the
workspace, and the agents' tool calls were answered by the editor's own index.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.conftest import start_editor
from tests.support.model_server import ModelServer, Reply
from tests.team.conftest import (
    TeamServerProcess,
    final_answer,
    start_team_server,
    stop_team_server,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "Pg!s3cr3t-Wh4le#2024"
EDITOR_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
APP = f'''"""Orders API."""

import sqlite3

DB_PASSWORD = "{SECRET}"


def find_order(conn: sqlite3.Connection, order_id: str):
    query = "SELECT * FROM orders WHERE id = '" + order_id + "'"
    return conn.execute(query).fetchone()
'''
FINDING = {
    "path": "app.py",
    "start_line": 9,
    "end_line": 10,
    "severity": "error",
    "rule": "CWE-89",
    "message": "SQL built by string concatenation from order_id.",
    "fix": "Use a parameterised query.",
}


def _project(base: Path) -> Path:
    root = base / "orders"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / ".env").write_text(f"DB_PASSWORD={SECRET}\n")
    return root


async def test_a_security_review_runs_on_the_team_server(
    team_server: TeamServerProcess, tmp_path: Path
) -> None:
    _user_id, token = await asyncio.to_thread(team_server.add_member, "dev@example.com", "member")
    # The agent reads the file through the editor (a tool call), then reports.
    team_server.model.script(
        Reply.tool_call("read_file", {"path": "app.py", "start_line": 1, "end_line": 12}),
        Reply.plain(final_answer("One injection.", findings=[FINDING])),
    )
    root = _project(tmp_path)
    options = {"teamServerUrl": team_server.url, "teamToken": token}
    async with start_editor(root, options=options) as editor:
        await editor.wait_until(
            lambda: any(s.get("remote", {}).get("connected") for s in editor.statuses),
            60,
            "the team server connection",
        )
        uri = editor.open("app.py")
        started = await editor.command(
            "llmgenie.runCrew", {"crew": "security", "uri": uri, "remote": True}
        )
        run_id = started["runId"]
        await editor.wait_until(lambda: uri in editor.lsp.diagnostics, 180, "diagnostics")
        [diag] = editor.lsp.diagnostics[uri]
        assert (diag.source, diag.code) == ("llmgenie", "CWE-89")
        assert diag.severity == types.DiagnosticSeverity.Error
        assert diag.range.start.line == 8
        events = [e for e in editor.run_events if e["runId"] == run_id]
        assert events[-1]["kind"] == "result" and events[-1]["data"]["remote"] is True
        seqs = [e["data"]["seq"] for e in events if "seq" in e["data"]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "events in order, no gap"
        runs = await editor.request("llmgenie/runs/list", {})
        mine = next(r for r in runs["runs"] if r["run_id"] == run_id)
        assert mine["status"] == "succeeded" and mine["findings"] == 1
        team_runs = (await editor.request("llmgenie/team/runs", {}))["runs"]
        assert team_runs[0]["crew"] == "security" and team_runs[0]["status"] == "succeeded"
        assert team_runs[0]["result"]["findings"][0]["rule"] == "CWE-89"
        # The chat's thumbs on a delegated answer reach the team server, where it ran.
        verdict = {"runId": run_id, "verdict": "helpful"}
        assert await editor.request("llmgenie/runs/feedback", verdict) == {"recorded": True}

    with team_server.api() as api:
        report = api.get(f"/teams/{team_server.team_id}/audit/verify").json()
        assert report["ok"] is True and report["records"] >= 3
        actions = [a["action"] for a in api.get(f"/teams/{team_server.team_id}/audit").json()]
        assert {"run_started", "tool_called", "run_finished", "answer_feedback"} <= set(actions)
        listed = api.get(f"/teams/{team_server.team_id}/runs").json()
        assert any(r["status"] == "succeeded" and r["crew"] == "security" for r in listed)

    sent = team_server.model.all_sent_text()
    assert "find_order" in sent, "the model saw the code (through the editor's tool answer)"
    assert SECRET not in sent and SECRET not in json.dumps(listed)


async def test_an_unreachable_team_server_means_the_run_goes_on_locally(
    scripted_llm_env: object, tmp_path: Path
) -> None:
    import socket

    from tests.support.model_server import ModelServer

    assert isinstance(scripted_llm_env, ModelServer)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    scripted_llm_env.default_reply = Reply.plain(final_answer("Looks fine."))
    root = _project(tmp_path)
    options = {"teamServerUrl": f"http://127.0.0.1:{dead}", "teamToken": "lgp_x_y"}
    async with start_editor(root, options=options) as editor:
        await editor.wait_until(
            lambda: any(s.get("remote", {}).get("state") == "unreachable" for s in editor.statuses),
            60,
        )
        uri = editor.uri("app.py")
        first = await editor.command(
            "llmgenie.runCrew", {"crew": "review", "uri": uri, "remote": True}
        )
        await editor.wait_until(
            lambda: any(
                e["runId"] == first["runId"] and e["kind"] == "result" for e in editor.run_events
            ),
            180,
            "the local run's result",
        )
        second = await editor.command(
            "llmgenie.runCrew", {"crew": "review", "uri": uri, "remote": True}
        )
        await editor.wait_until(
            lambda: any(
                e["runId"] == second["runId"] and e["kind"] == "result" for e in editor.run_events
            ),
            180,
        )
        told = [m.message for m in editor.lsp.messages if "team server is unavailable" in m.message]
        assert len(told) == 1, "told once, not at every run"
        assert not any(e["data"].get("remote") for e in editor.run_events)


def _spans(trace_dir: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(trace_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


async def test_one_trace_from_the_language_server_into_the_team_server(
    pg_database: str, redis_url: str, team_model: ModelServer, tmp_path: Path
) -> None:
    server_traces, editor_traces = tmp_path / "server-traces", tmp_path / "editor-traces"
    (tmp_path / "server").mkdir()
    server = await asyncio.to_thread(
        start_team_server,
        tmp_path / "server",
        pg_database,
        redis_url,
        team_model,
        LLMGENIE_TRACE_DIR=str(server_traces),
    )
    try:
        _user, token = await asyncio.to_thread(server.add_member, "traced@example.com", "member")
        team_model.script(Reply.plain(final_answer("Finds an order by id.")))
        root = _project(tmp_path)
        options = {"teamServerUrl": server.url, "teamToken": token}
        # This test process imported CrewAI, which sets OTEL_SDK_DISABLED: an editor's
        # language server runs without it.
        env = {"LLMGENIE_TRACE_DIR": str(editor_traces), "OTEL_SDK_DISABLED": "false"}
        async with start_editor(root, options=options, env=env) as editor:
            await editor.wait_until(
                lambda: any(s.get("remote", {}).get("connected") for s in editor.statuses),
                60,
                "the team server connection",
            )
            uri = editor.open("app.py")
            started = await editor.command(
                "llmgenie.runCrew",
                {"crew": "explain", "uri": uri, "remote": True, "traceparent": EDITOR_TRACE},
            )
            await editor.wait_until(
                lambda: any(
                    e["runId"] == started["runId"] and e["kind"] == "result"
                    for e in editor.run_events
                ),
                180,
                "the result",
            )
        # The language server wrote its span at shutdown at the latest.
        [delegate] = [s for s in _spans(editor_traces) if s["name"] == "run.delegate"]
        trace_id = delegate["trace_id"]
        assert f"00-{trace_id}-{delegate['parent_id']}-01" == EDITOR_TRACE, "the editor's trace"

        def submitted() -> bool:
            return any(
                s["name"] == "run.submit" and s["trace_id"] == trace_id
                for s in _spans(server_traces)
            )

        await editor.wait_until(submitted, 30, "the server's run.submit in the same trace")
        with server.api() as api:
            runs = api.get(f"/teams/{server.team_id}/runs").json()
        assert [r["trace_id"] for r in runs] == [trace_id], "the team run names the trace"
    finally:
        await asyncio.to_thread(stop_team_server, server)
