"""The doorbell message (a Celery task) carries the trace context of whoever rang it, and
the worker's task hands it to the runner: checked on Celery's in-memory broker, through
Celery's own worker-side request (what a worker does with a message it received). And the
worker's stop file, which a pod's preStop hook creates so that it claims no more runs."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from celery.worker.request import Request

from llmgenie.observability.tracing import continued
from llmgenie.remote.worker import (
    QUEUE,
    TASK,
    CeleryQueue,
    celery_app,
    register_run_task,
    watch_stop_file,
)

BROKER = "memory://localhost/llmgenie-doorbell-test"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _deliver(rings: int) -> list[tuple[str, Mapping[str, str] | None]]:
    """Receive `rings` messages as a worker would and run the task on each."""
    app = celery_app(BROKER)
    executed: list[tuple[str, Mapping[str, str] | None]] = []
    register_run_task(app, lambda run_id, trace: executed.append((run_id, trace)))
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(QUEUE)
        try:
            for _ in range(rings):
                message = queue.get(timeout=5)
                assert message.headers["task"] == TASK
                Request(message, app=app, task=app.tasks[TASK]).execute()
                message.ack()
        finally:
            queue.close()
    return executed


def test_the_doorbell_carries_the_ringer_s_trace_to_the_worker() -> None:
    doorbell = CeleryQueue(BROKER)
    try:
        with continued({"traceparent": TRACEPARENT}):  # the submit's span
            doorbell.enqueue("run-in-a-trace")
        doorbell.enqueue("run-rung-by-the-reaper")  # no span: nothing to carry
    finally:
        doorbell.close()
    assert _deliver(2) == [
        ("run-in-a-trace", {"traceparent": TRACEPARENT}),
        ("run-rung-by-the-reaper", None),  # the runner then uses the ledger row's trace
    ]


def test_a_worker_stops_claiming_when_its_stop_file_appears(tmp_path: Path) -> None:
    """What a pod's preStop hook does: it creates the file, the worker claims no more."""
    stop_file = tmp_path / "stop-claiming"
    stopped = threading.Event()
    watcher = watch_stop_file(stop_file, stopped.set, interval_s=0.05)
    assert not stopped.is_set(), "stopped claiming without being told"
    stop_file.touch()
    assert stopped.wait(10), "the stop file went unnoticed"
    watcher.join(10)
    assert not watcher.is_alive()
