"""A real HTTP server on 127.0.0.1 speaking Ollama's /api/embed and OpenAI's /v1/embeddings.

Vectors are a deterministic function of the text (not unit length, so clients must
normalise); every request body is recorded so tests can check what was sent.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIM = 8


def fake_vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [float(b) + 1.0 for b in digest[:DIM]]


@dataclass
class EmbeddingServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_status: int | None = None


@contextmanager
def embedding_server() -> Iterator[EmbeddingServer]:
    state = EmbeddingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "body": body})
            if state.fail_status is not None:
                self._send(state.fail_status, {"error": {"message": "model exploded"}})
                return
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            if self.path == "/api/embed":
                self._send(
                    200, {"model": body["model"], "embeddings": [fake_vector(t) for t in texts]}
                )
            elif self.path == "/v1/embeddings":
                data = [
                    {"object": "embedding", "index": i, "embedding": fake_vector(t)}
                    for i, t in enumerate(texts)
                ]
                data.reverse()  # out of order on purpose: clients must honour "index"
                self._send(
                    200,
                    {
                        "object": "list",
                        "model": body["model"],
                        "data": data,
                        "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
                    },
                )
            else:
                self._send(404, {"error": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
