"""Prometheus metrics. One registry; names follow DESIGN.md's budgets and the issue texts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import Metric

REGISTRY = CollectorRegistry(auto_describe=True)

_FAST = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

# Context engine
INDEX_FILES = Counter(
    "llmgenie_index_files_total", "Files indexed, by outcome", ["outcome"], registry=REGISTRY
)
INDEX_DURATION = Histogram(
    "llmgenie_index_duration_seconds", "Full index pass duration", buckets=_SLOW, registry=REGISTRY
)
INDEX_UPDATE_LATENCY = Histogram(
    "llmgenie_index_update_latency_seconds",
    "Single-document incremental update latency",
    buckets=_FAST,
    registry=REGISTRY,
)
SEARCH_LATENCY = Histogram(
    "llmgenie_search_latency_seconds", "Hybrid search latency", buckets=_FAST, registry=REGISTRY
)
EMBEDDED_CHUNKS = Counter(
    "llmgenie_embedded_chunks_total", "Chunks embedded into the vector store", registry=REGISTRY
)

# Language server
LSP_REQUEST_LATENCY = Histogram(
    "llmgenie_lsp_request_latency_seconds",
    "LSP request handling latency",
    ["method"],
    buckets=_FAST,
    registry=REGISTRY,
)

# Agents and smart wrapper
AGENT_RESPONSE_TIME = Histogram(
    "llmgenie_agent_response_time_seconds",
    'Wall time of a crew run (agent="crew") or of one specialist\'s turn, by crew, agent, outcome',
    ["crew", "agent", "outcome"],
    buckets=_SLOW,
    registry=REGISTRY,
)
AGENT_TASKS = Counter(
    "llmgenie_agent_tasks_total",
    "Agent task completions and errors",
    ["crew", "agent", "outcome"],
    registry=REGISTRY,
)
WRAPPER_STEP_LATENCY = Histogram(
    "llmgenie_wrapper_step_seconds",
    "Smart wrapper step duration",
    ["step"],
    buckets=_FAST,
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "llmgenie_llm_tokens_total", "Model tokens", ["model", "kind"], registry=REGISTRY
)
LLM_COST = Counter("llmgenie_llm_cost_usd_total", "Model cost in USD", ["model"], registry=REGISTRY)
ACTIVE_RUNS = Gauge("llmgenie_active_runs", "Agent runs in progress", registry=REGISTRY)
ANSWER_FEEDBACK = Counter(
    "llmgenie_answer_feedback_total",
    "Users' verdicts on agent answers (the chat's thumbs), by crew and verdict",
    ["crew", "verdict"],
    registry=REGISTRY,
)


def render_metrics(without: frozenset[str] = frozenset()) -> bytes:
    """The registry in Prometheus text format (what /metrics serves), less the metric
    families named in `without`."""
    if not without:
        return generate_latest(REGISTRY)
    return generate_latest(_Without(without))


class _Without:
    """The registry as a collector, less some families (a worker's view of it)."""

    def __init__(self, without: frozenset[str]) -> None:
        self.without = without

    def collect(self) -> Iterator[Metric]:
        return (m for m in REGISTRY.collect() if m.name not in self.without)


class _MetricsHandler(BaseHTTPRequestHandler):
    healthy: Callable[[], bool] | None = None
    without: frozenset[str] = frozenset()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz" and self.healthy is not None:
            ok = self.healthy()
            self._send(200 if ok else 503, b"ok\n" if ok else b"stalled\n", "text/plain")
            return
        if path != "/metrics":
            self.send_error(404, "only /metrics is served here")
            return
        self._send(200, render_metrics(self.without), CONTENT_TYPE_LATEST)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # scrapes are not news; stderr stays for real logs


def serve_metrics(
    host: str,
    port: int,
    healthy: Callable[[], bool] | None = None,
    without: frozenset[str] = frozenset(),
) -> ThreadingHTTPServer:
    """Serve /metrics on HOST:PORT from a daemon thread (opt-in for the language server;
    a worker also answers /healthz from `healthy` and leaves out the server's families)."""
    members: dict[str, object] = {"without": without}
    if healthy is not None:
        members["healthy"] = staticmethod(healthy)
    handler = type("MetricsHandler", (_MetricsHandler,), members)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="llmgenie-metrics", daemon=True).start()
    return server


# Team server
API_LATENCY = Histogram(
    "llmgenie_api_request_duration_seconds",
    "Team server REST request duration, by route template, method and status",
    ["route", "method", "status"],
    buckets=_FAST,
    registry=REGISTRY,
)
WEBSOCKET_SESSIONS = Gauge(
    "llmgenie_websocket_sessions",
    "Open WebSocket connections to /lsp (editors; counted from the handshake)",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "llmgenie_queue_depth",
    "Team runs waiting for a worker (queued in the ledger)",
    registry=REGISTRY,
)
RUNS_RUNNING = Gauge(
    "llmgenie_runs_running", "Team runs a worker holds (running in the ledger)", registry=REGISTRY
)
LEASE_EXPIRIES = Counter(
    "llmgenie_lease_expiries_total",
    "Runs whose worker stopped renewing its lease (re-queued by the reaper)",
    registry=REGISTRY,
)
DB_POOL_IN_USE = Gauge(
    "llmgenie_db_pool_connections_in_use",
    "Database connections checked out of this process's pools",
    registry=REGISTRY,
)
DB_POOL_WAITING = Gauge(
    "llmgenie_db_pool_waiting",
    "Threads waiting for a database connection because the pool is exhausted",
    registry=REGISTRY,
)
WORKERS = Gauge("llmgenie_workers", "Workers whose heartbeat is fresh", registry=REGISTRY)
WORKERS_LOST = Gauge(
    "llmgenie_workers_lost",
    "Workers whose heartbeat stopped in the last 10 minutes without a clean shutdown",
    registry=REGISTRY,
)

SERVER_ONLY = frozenset(
    {
        "llmgenie_api_request_duration_seconds",
        "llmgenie_websocket_sessions",
        "llmgenie_queue_depth",
        "llmgenie_runs_running",
        "llmgenie_lease_expiries",
        "llmgenie_workers",
        "llmgenie_workers_lost",
    }
)
"""Families only the team server reports (a worker's zeros would hide the server's truth)."""
