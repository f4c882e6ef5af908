"""With no model configured, the editor is offered the Ollama running on the machine: in the
status, in health, and in the error of a run. A real server over a real pipe, and a real
HTTP server answering like Ollama's /api/tags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.conftest import make_project, start_editor
from tests.support.fake_ollama import serve_ollama

pytestmark = pytest.mark.asyncio

SUGGESTED = "ollama_chat/qwen2.5-coder:1.5b"


@pytest.fixture
def ollama() -> Iterator[str]:
    yield from serve_ollama()


async def test_the_running_ollama_is_offered_in_status_health_and_run_errors(
    tmp_path: Path, ollama: str
) -> None:
    env = {
        "OLLAMA_HOST": ollama,
        "LLMGENIE_CACHE_DIR": str(tmp_path / "cache"),
        "LLMGENIE_DATA_DIR": str(tmp_path / "data"),
        "LLMGENIE_CONFIG_FILE": str(tmp_path / "config.toml"),
    }
    async with start_editor(make_project(tmp_path / "ws"), env=env) as editor:
        await editor.wait_until(
            lambda: any(s["model"].get("suggested") == SUGGESTED for s in editor.statuses),
            30,
            "a status naming the local model",
        )
        health = await editor.request("llmgenie/health", {})
        assert health["model"]["configured"] is False
        assert health["model"]["suggested"] == SUGGESTED
        [reason] = [d for d in health["degraded"] if "no model configured" in d]
        assert f"Ollama is running at http://{ollama} with qwen2.5-coder:1.5b" in reason
        assert f"LLMGENIE_LLM__MODEL={SUGGESTED}" in reason

        started = await editor.command(
            "llmgenie.runCrew", {"crew": "explain", "uri": editor.uri("billing.py")}
        )
        await editor.wait_until(
            lambda: any(e["runId"] == started["runId"] for e in editor.run_events), 10
        )
        [event] = [e for e in editor.run_events if e["runId"] == started["runId"]]
        assert event["kind"] == "error" and f"LLMGENIE_LLM__MODEL={SUGGESTED}" in event["message"]
