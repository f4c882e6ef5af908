"""An MCP client (the official SDK) talking to `llmgenie mcp FIXTURE` in a real subprocess,
over stdio or streamable HTTP, on a small fixture workspace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

BILLING = '''"""Billing: taxes and invoices."""

TAX_RATE = 0.2


def compute_tax(amount: float, rate: float = TAX_RATE) -> float:
    return round(amount * rate, 2)


def invoice_total(amounts: list[float]) -> float:
    subtotal = sum(amounts)
    return subtotal + compute_tax(subtotal)
'''

SHIPPING = '''"""Shipping: parcels and carriers."""

from billing import compute_tax


class Parcel:
    def __init__(self, weight_kg: float) -> None:
        self.weight_kg = weight_kg

    def shipping_cost(self) -> float:
        base = 4.5 + 1.2 * self.weight_kg
        return base + compute_tax(base)
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A two-file Python project: billing defines compute_tax, shipping uses it."""
    root = tmp_path / "shop"
    root.mkdir()
    (root / "billing.py").write_text(BILLING)
    (root / "shipping.py").write_text(SHIPPING)
    (root / "README.md").write_text("# Shop\n\nBilling and shipping.\n")
    (tmp_path / "secret.txt").write_text("outside the workspace\n")
    return root


def server_env() -> dict[str, str]:
    """The test's environment (private dirs, scripted model when set) for the server."""
    return {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


@asynccontextmanager
async def stdio_session(root: Path) -> AsyncIterator[ClientSession]:
    """`llmgenie mcp ROOT` over stdio, initialised."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "llmgenie", "mcp", str(root)], env=server_env()
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@pytest.fixture
def http_server(project: Path) -> Iterator[str]:
    """`llmgenie mcp ROOT --http 127.0.0.1:0`; yields the URL it announces on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmgenie", "mcp", str(project), "--http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
    )
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:  # blocks until the server announces itself (or exits)
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        assert url is not None, f"the server exited with {proc.wait()}"
        # keep reading stderr so the server never blocks on a full pipe
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
