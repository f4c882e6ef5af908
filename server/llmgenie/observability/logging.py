"""structlog setup: JSON lines to stderr (stdout is the LSP channel in stdio mode)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from llmgenie.observability.tracing import add_trace_ids

_configured = False


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is now (test runners and daemons swap it out)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", stream: TextIO | None = None, json: bool = True) -> None:
    """Route structlog and stdlib logging to `stream` (stderr by default), never stdout."""
    global _configured
    out: Any = stream or _CurrentStderr()
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    root.handlers[:] = [logging.StreamHandler(out)]
    root.setLevel(max(numeric, logging.WARNING))
    _configured = True


def get_logger(name: str) -> Any:
    """A bound structlog logger; events are named `noun_verb` with key-value context."""
    if not _configured:
        configure_logging()
    return structlog.get_logger(name)


@contextmanager
def logging_run(run_id: str) -> Iterator[None]:
    """Every event logged in this thread meanwhile names the run (`run_id`), whichever code
    logs it (agents, model calls); the trace and span ids come from the active span."""
    with structlog.contextvars.bound_contextvars(run_id=run_id):
        yield
