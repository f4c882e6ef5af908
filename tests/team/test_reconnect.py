"""A dropped connection mid-run costs nothing: the editor reconnects, resumes after the
last event it saw and gets every event exactly once, in order; the run's state (in the
ledger) stays right throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.lsp.conftest import start_editor
from tests.support.model_server import Reply
from tests.support.tcp_proxy import TcpProxy
from tests.team.conftest import TeamServerProcess, final_answer

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def proxy(team_server: TeamServerProcess) -> Iterator[TcpProxy]:
    address = urlparse(team_server.url)
    proxy = TcpProxy(address.hostname or "127.0.0.1", address.port or 80).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _status(server: TeamServerProcess, token: str, run_id: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url + "/api/v1", headers=headers, timeout=30) as api:
        runs = api.get(f"/teams/{server.team_id}/runs").json()
    return str(next(r["status"] for r in runs if r["request"]["crew"] == "explain"))


async def test_events_survive_a_dropped_connection_exactly_once(
    team_server: TeamServerProcess, proxy: TcpProxy, tmp_path: Path
) -> None:
    _user, token = await asyncio.to_thread(team_server.add_member, "rc@example.com", "member")
    team_server.model.script(Reply.slow(final_answer("Adds numbers."), delay=4.0))
    root = tmp_path / "ws"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    options = {"teamServerUrl": f"http://127.0.0.1:{proxy.port}", "teamToken": token}
    async with start_editor(root, options=options) as editor:
        await editor.wait_until(
            lambda: any(s.get("remote", {}).get("connected") for s in editor.statuses), 60
        )
        started = await editor.command(
            "llmgenie.runCrew", {"crew": "explain", "uri": editor.uri("calc.py"), "remote": True}
        )
        run_id = started["runId"]
        # The agents are waiting on the model: the run is mid-flight. Cut the network.
        await asyncio.to_thread(team_server.model.wait_for_requests, 1, 120)
        connections = proxy.connections
        proxy.drop()
        await editor.wait_until(
            lambda: any(s.get("remote", {}).get("state") == "unreachable" for s in editor.statuses),
            30,
            "the client to notice the drop",
        )
        assert await asyncio.to_thread(_status, team_server, token, run_id) == "running"
        await editor.wait_until(lambda: proxy.connections > connections, 60, "a reconnect")
        await editor.wait_until(
            lambda: any(e["runId"] == run_id and e["kind"] == "result" for e in editor.run_events),
            120,
            "the result after the reconnect",
        )
        seqs = [e["data"]["seq"] for e in editor.run_events if e["runId"] == run_id]
        assert seqs == list(range(1, len(seqs) + 1)), f"every event once, in order: {seqs}"
        assert await asyncio.to_thread(_status, team_server, token, run_id) == "succeeded"
        assert editor.statuses[-1]["remote"]["connected"] is True
