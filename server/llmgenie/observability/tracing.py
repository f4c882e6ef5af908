"""OpenTelemetry traces: editor → team server → queue → worker → model call, one trace.

Off unless configured: the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) exports over OTLP/HTTP; `LLMGENIE_TRACE_DIR` writes
each process's finished spans as JSON lines to `<dir>/<service>-<pid>.jsonl` (tests, and a
look without a collector). A run carries its trace context (W3C `traceparent`) in the
doorbell's Celery message headers and in its ledger row, so the worker that claims it, on
any host, continues the submit's trace (a re-ring by the reaper carries none: the row's).

`configure_tracing` must run before CrewAI is imported: CrewAI's opt-out sets
`OTEL_SDK_DISABLED`, which a tracer provider created afterwards would obey.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_configured = False
_lock = threading.Lock()


def configure_tracing(service: str) -> bool:
    """Install a tracer provider for `service` if an exporter is configured; True if so."""
    global _configured
    with _lock:
        if _configured:
            return True
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        trace_dir = os.environ.get("LLMGENIE_TRACE_DIR")
        if not endpoint and not trace_dir:
            return False
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME") or service
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        if trace_dir:
            path = Path(trace_dir) / f"{service}-{os.getpid()}.jsonl"
            provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path)))
        trace.set_tracer_provider(provider)
        _configured = True
        return True


def tracer() -> trace.Tracer:
    return trace.get_tracer("llmgenie")


def carrier() -> dict[str, str]:
    """The current trace context as headers ({} outside a span): stored with a run."""
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers)
    return headers


@contextmanager
def continued(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Make `headers` (from `carrier()`, maybe in another process) the parent context."""
    if not headers:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract(dict(headers)))
    try:
        yield
    finally:
        otel_context.detach(token)


def current_ids() -> dict[str, str]:
    """trace_id / span_id of the active span, for log lines ({} when none)."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return {}
    return {"trace_id": f"{span.trace_id:032x}", "span_id": f"{span.span_id:016x}"}


def add_trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: every event inside a span names its trace and span."""
    event.update(current_ids())
    return event


class JsonLinesExporter(SpanExporter):
    """A span exporter that appends finished spans to a file, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            assert ctx is not None
            lines.append(
                json.dumps(
                    {
                        "name": span.name,
                        "service": span.resource.attributes.get("service.name"),
                        "trace_id": f"{ctx.trace_id:032x}",
                        "span_id": f"{ctx.span_id:016x}",
                        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
                        "start": span.start_time,
                        "end": span.end_time,
                        "attributes": dict(span.attributes or {}),
                    },
                    default=str,
                )
            )
        with self._lock, self._path.open("a") as out:
            out.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
