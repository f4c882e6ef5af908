"""Observability shared by the smart-wrapper steps: one structlog event pair and one
latency sample per step, so every run shows where its time went."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import WRAPPER_STEP_LATENCY

log = get_logger("llmgenie.wrapper")


@contextmanager
def wrapper_step(
    step: str, done_event: str, run_id: str, **context: Any
) -> Iterator[dict[str, Any]]:
    """Time one step: logs `wrapper_step_started`, then `done_event` (e.g. `context_analyzed`)
    with whatever the step put in the yielded dict, or `wrapper_step_failed`."""
    details: dict[str, Any] = {}
    started = time.perf_counter()
    log.debug("wrapper_step_started", step=step, run_id=run_id, **context)
    try:
        yield details
    except BaseException as exc:
        seconds = time.perf_counter() - started
        WRAPPER_STEP_LATENCY.labels(step).observe(seconds)
        log.info(
            "wrapper_step_failed",
            step=step,
            run_id=run_id,
            error=f"{type(exc).__name__}: {exc}",
            seconds=round(seconds, 4),
        )
        raise
    seconds = time.perf_counter() - started
    WRAPPER_STEP_LATENCY.labels(step).observe(seconds)
    log.info(done_event, step=step, run_id=run_id, seconds=round(seconds, 4), **details)
