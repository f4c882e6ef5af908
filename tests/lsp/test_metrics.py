"""The language server's Prometheus metrics: opt-in (`--metrics HOST:PORT`, a local port),
with each request timed under its method, and a method it does not know as "other"."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from llmgenie.contracts import ids
from tests.lsp.rawpipe import RawServer
from tests.team.conftest import _free_port

LATENCY = "llmgenie_lsp_request_latency_seconds"


def _request_counts(page: str) -> dict[str, float]:
    """Requests answered so far, by method label."""
    return {
        sample.labels["method"]: sample.value
        for family in text_string_to_metric_families(page)
        if family.name == LATENCY
        for sample in family.samples
        if sample.name == LATENCY + "_count"
    }


async def test_metrics_are_served_on_request_and_name_known_methods_only(
    workspace: Path,
) -> None:
    port = _free_port()
    server = await RawServer.start(args=("--metrics", f"127.0.0.1:{port}"))
    try:
        await server.initialize(workspace)
        reply = await server.response(server.request(ids.METHOD_HEALTH, {}))
        assert "result" in reply, reply
        unknown = await server.response(server.request("some/madeUpMethod-4711", {}))
        assert unknown["error"]["code"] == -32601, unknown  # MethodNotFound
        async with httpx.AsyncClient() as client:
            page = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert page.status_code == 200
        counts = _request_counts(page.text)
        assert counts.get(ids.METHOD_HEALTH) == 1.0, counts
        assert counts.get("other") == 1.0, counts
        assert "some/madeUpMethod-4711" not in page.text
        assert await server.shutdown() == 0
    finally:
        await server.kill()


async def test_no_metrics_port_without_the_option(workspace: Path) -> None:
    server = await RawServer.start()
    try:
        await server.initialize(workspace)
        assert "error" not in await server.response(server.request("shutdown"))
        # The process is up and answered: nothing of it listens for HTTP (nothing to scrape).
        pid = server.proc.pid
        listening = Path("/proc/net/tcp").read_text() + Path("/proc/net/tcp6").read_text()
        inodes = {line.split()[9] for line in listening.splitlines()[1:] if line.split()[3] == "0A"}
        sockets = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                sockets.add(target[8:-1])
        assert not inodes & sockets, "the server listens on a port it was not asked for"
        server.notify("exit")
        assert await asyncio.wait_for(server.proc.wait(), 30) == 0
    finally:
        await server.kill()
