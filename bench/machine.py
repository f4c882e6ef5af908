"""Where and when a benchmark ran: printed with every result, since these machines are noisy."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (or platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def project_commit() -> str:
    """The llmgenie commit the benchmark ran against (short hash, '+dirty' if modified)."""
    pinned = os.environ.get("LLMGENIE_BENCH_COMMIT")
    if pinned:  # a run from an exported snapshot of the tree has no .git to ask
        return pinned
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha


def describe(module: str, argv: list[str]) -> dict[str, Any]:
    """Command, machine and date of this run."""
    return {
        "command": " ".join(["python", "-m", module, *argv]),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "llmgenie_commit": project_commit(),
    }


def quiet_engine_logs(level: str | None = None) -> None:
    """Keep the engine's structlog INFO lines out of the benchmark's progress output.

    LLMGENIE_LOG_LEVEL overrides (e.g. INFO to see index events)."""
    from llmgenie.observability.logging import configure_logging

    configure_logging(level or os.environ.get("LLMGENIE_LOG_LEVEL", "WARNING"))
