"""Orchestration overhead of an agent run: the time not spent waiting on the model.

Each run goes through the real RunService (smart wrapper, store, audit, litellm) against
the scripted model server on 127.0.0.1, which answers after `--model-delay` seconds. The
server records how long it spent on every request; overhead = run wall time - that time.

Scenarios:
- `client`:  one ModelClient.complete call (redaction + litellm + HTTP), no run around it;
- `runtime`: a run whose crew is one streamed model call (wrapper + store + audit + client);
- `chat`:    the real chat crew (llmgenie.agents), one streamed answer;
- `explain`: the real CrewAI explain crew, one JSON answer.

    python -m bench.agent_overhead_bench --runs 20 --model-delay 0.2 --json out.json

The first run of each scenario (imports, warm-up) is reported apart as `cold_s`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import describe, quiet_engine_logs

APP = '''"""Orders."""


def total(items: list[int]) -> int:
    """Sum the items."""
    s = 0
    for i in items:
        s += i
    return s
'''
EXPLAIN_JSON = json.dumps(
    {"message": "`total` sums the items with a loop.", "edits": [], "findings": []}
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _step_means() -> dict[str, float]:
    """Mean seconds per smart-wrapper step so far (from the Prometheus histogram)."""
    from llmgenie.observability.metrics import REGISTRY

    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        if metric.name != "llmgenie_wrapper_step_seconds":
            continue
        for sample in metric.samples:
            step = sample.labels.get("step", "")
            if sample.name.endswith("_sum"):
                sums[step] = sample.value
            elif sample.name.endswith("_count"):
                counts[step] = sample.value
    return {s: sums[s] / counts[s] for s in sums if counts.get(s)}


def _summary(name: str, walls: list[float], models: list[float]) -> dict[str, Any]:
    overheads = [w - m for w, m in zip(walls, models, strict=True)]
    warm = overheads[1:] or overheads
    return {
        "scenario": name,
        "runs": len(walls),
        "cold_s": round(overheads[0], 4),
        "overhead_median_s": round(statistics.median(warm), 4),
        "overhead_p95_s": round(_percentile(warm, 0.95), 4),
        "model_wait_median_s": round(statistics.median(models[1:] or models), 4),
        "wall_median_s": round(statistics.median(walls[1:] or walls), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--model-delay", type=float, default=0.2)
    parser.add_argument("--scenarios", default="client,runtime,chat,explain")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    quiet_engine_logs()

    from tests.support.model_server import ModelServer, Reply

    from llmgenie.agents.environment import RunEnvironment
    from llmgenie.config import Settings
    from llmgenie.contracts.agents import AnalyzedContext
    from llmgenie.contracts.runs import LineRange, RunRequest, RunResult
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.llm.client import ModelClient
    from llmgenie.redaction import Redactor
    from llmgenie.runs.service import RunService

    server = ModelServer().start()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        (root / "app.py").write_text(APP)
        (root / "README.md").write_text("# Orders\n")
        settings = Settings(
            llm={"model": "openai/bench", "api_base": server.url, "api_key": "sk-bench"},  # type: ignore[arg-type]
            index={"cache_dir": Path(tmp) / "cache", "embeddings": "none"},  # type: ignore[arg-type]
        )
        engine = WorkspaceEngine.open(root, settings)
        engine.index()

        def one_call(ctx: AnalyzedContext, env: RunEnvironment) -> RunResult:
            text = "\n".join([ctx.file_text, ctx.selection_text, ctx.repo_map, *ctx.guidance])
            done = env.client.complete(
                [{"role": "user", "content": text}], on_delta=lambda _t: None
            )
            return RunResult(message=done.text, model=done.model)

        def measure(name: str, once: Callable[[], None], reply: Reply) -> None:
            walls: list[float] = []
            models: list[float] = []
            for _ in range(args.runs):
                server.script(reply)
                before = len(server.requests)
                started = time.perf_counter()
                once()
                walls.append(time.perf_counter() - started)
                models.append(sum(r.seconds for r in server.requests[before:]))
            results.append(_summary(name, walls, models))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)

        scenarios = args.scenarios.split(",")
        delay = args.model_delay
        streamed = Reply.stream(["It sums ", "the items."], first_delay=delay)
        if "client" in scenarios:
            client = ModelClient(
                ["openai/bench"], api_base=server.url, api_key="sk-b", redact=Redactor()
            )
            measure(
                "client",
                lambda: client.complete(
                    [{"role": "user", "content": APP}], on_delta=lambda _t: None
                ),
                streamed,
            )

        def via_service(crew: str, executor: Any) -> Callable[[], None]:
            service = RunService(settings, engine, executor=executor)

            def once() -> None:
                request = RunRequest(
                    crew=crew,  # type: ignore[arg-type]
                    workspace=str(root),
                    path="app.py",
                    range=LineRange(start_line=4, end_line=9),
                    prompt="what does total do?",
                )
                record = service.start(request).wait(300)
                if record.status.value != "succeeded":
                    raise SystemExit(f"{crew} run failed: {record.error}")

            return once

        if "runtime" in scenarios:
            measure("runtime", via_service("explain", one_call), streamed)
        if "chat" in scenarios:
            measure("chat", via_service("chat", None), streamed)
        if "explain" in scenarios:
            measure("explain", via_service("explain", None), Reply.slow(EXPLAIN_JSON, delay))
        engine.close()
    server.stop()
    report = {
        "machine": describe("bench.agent_overhead_bench", argv or sys.argv[1:]),
        "model_delay_s": args.model_delay,
        "wrapper_step_mean_s": {k: round(v, 5) for k, v in _step_means().items()},
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
