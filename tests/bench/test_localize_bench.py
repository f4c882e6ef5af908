"""bench.localize_bench on the tiny real git repository with the scripted model: both
methods scored on the same replay, the model's answers and costs in the details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.localize_bench import main

from tests.bench.test_localization_harness import TinyRepo, _write_instances, tiny_repo
from tests.support.model_server import ModelServer, Reply

__all__ = ["tiny_repo"]  # the fixture, used by name


def test_localize_bench_scores_the_model_and_search_on_the_same_replay(
    tiny_repo: TinyRepo,
    tmp_path: Path,
    scripted_llm_env: ModelServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "lite.jsonl"
    _write_instances(data, tiny_repo)
    scripted_llm_env.script(
        Reply.tool_call("list_symbols", {"path": "pkg/cache.py"}),
        Reply.plain('{"locations": [{"path": "pkg/cache.py", "symbol": "evict", "reason": "x"}]}'),
        Reply.plain('{"locations": [{"path": "pkg/socket.py", "reason": "invented"}]}'),
    )
    out = tmp_path / "summary.json"
    details = tmp_path / "details.jsonl"
    rc = main(
        [
            "--repos", str(tiny_repo.bare.parent),
            "--work", str(tmp_path / "work"),
            "--data", str(data),
            "--classifications", str(data.with_suffix(".csv")),
            "--out", str(out),
            "--details", str(details),
        ]
    )  # fmt: skip
    assert rc == 0
    summary = json.loads(out.read_text())
    for method in ("localize", "search"):
        assert summary["methods"][method]["overall"]["n"] == 2
        assert summary["methods"][method]["overall"]["top1"] == 100.0
    assert summary["localize"]["answers_from_model"] == 0.5  # the second answer was invented
    assert summary["localize"]["mean_tool_calls"] == 0.5
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert [r["source"] for r in rows] == ["model", "search"]
    assert rows[0]["hits"][0]["symbol"] == "LruCache.evict"
    assert rows[1]["dropped"][0]["item"]["path"] == "pkg/socket.py"
    assert "acme/tiny localize" in capsys.readouterr().out
