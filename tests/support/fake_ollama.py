"""A real HTTP server on 127.0.0.1 that answers like Ollama's `/api/tags` (three models: a
chat model, an embedding model and a coder), for local-model detection tests. Point
`OLLAMA_HOST` at the `host:port` it yields."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAGS = {
    "models": [
        {"name": "llama3.2:3b", "size": 2_000_000_000, "details": {"parameter_size": "3.2B"}},
        {"name": "nomic-embed-text:latest", "size": 270_000_000},
        {
            "name": "qwen2.5-coder:1.5b",
            "size": 986_000_000,
            "details": {"parameter_size": "1.5B", "quantization_level": "Q4_K_M"},
        },
    ]
}


def serve_ollama(delay: float = 0.0) -> Iterator[str]:
    """Serve until the generator is closed; `delay`: seconds before each answer."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            stop.wait(delay)
            body = json.dumps(TAGS if self.path == "/api/tags" else {}).encode()
            self.send_response(200 if self.path == "/api/tags" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
