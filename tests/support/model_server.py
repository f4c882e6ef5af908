"""A scripted OpenAI-compatible model server on 127.0.0.1 for tests and benchmarks.

It is a real HTTP server (stdlib ``http.server`` in a thread, HTTP/1.1, chunked SSE), so
litellm and CrewAI run for real against it. Each test scripts the replies it wants:

    server = ModelServer().start()
    server.script(Reply.error(500), model="model-a")      # model A fails...
    server.script(Reply.plain("hello"), model="model-b")   # ...model B answers
    server.script(Reply.stream(["hel", "lo"], delay=0.05))  # default queue, any model
    ...
    server.requests        # every request received (path, parsed body, raw body, timing)
    server.stop()

Endpoints: POST /v1/chat/completions (plain or ``"stream": true`` SSE with a usage chunk
and ``data: [DONE]``), POST /v1/embeddings (deterministic hashed vectors), GET /v1/models.
Control endpoints for out-of-process use: POST /_script (body: a script JSON, see
``load_script``), GET /_requests (recorded requests), POST /_reset.

Which reply answers a chat request: the queue for the request's model name first (``model``
as sent on the wire, e.g. ``model-b`` for litellm's ``openai/model-b``), then the default
queue, then ``responder(body)`` if set, then ``default_reply`` if set; otherwise a 500 that
says the script is exhausted (so a test that under-scripts fails loudly).

Standalone: ``python -m tests.support.model_server --port 0 --script FILE.json`` prints
``model server listening on http://127.0.0.1:PORT/v1`` on stdout, then serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import select
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

ReplyKind = Literal["text", "stream", "tool_calls", "malformed", "error", "hang"]

DEFAULT_MODEL = "scripted-model"
EMBEDDING_DIM = 64


@dataclass
class Reply:
    """One scripted answer. Build with the classmethods; fields are the knobs."""

    kind: ReplyKind = "text"
    text: str = ""
    chunks: list[str] = field(default_factory=list)
    chunk_delay: float = 0.0
    delay: float = 0.0
    status: int = 200
    error_message: str = ""
    retry_after: float | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    hang_after_chunks: bool = False
    stream_tool_calls: bool = False
    cut_after_chunks: str = ""  # "close": drop the connection; "done": [DONE], no finish
    content_type: str = ""  # a malformed reply's Content-Type (default application/json)
    finish_reason: str = ""  # the model's reason to stop when not "stop": "length" (output limit)

    @classmethod
    def plain(
        cls,
        text: str,
        *,
        delay: float = 0.0,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "",
    ) -> Reply:
        """A plain assistant message (sent as one chunk if the request streams);
        `finish_reason="length"` is a model stopped by the output-token limit mid-answer."""
        return cls(
            kind="text",
            text=text,
            delay=delay,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
        )

    @classmethod
    def stream(
        cls,
        chunks: list[str],
        *,
        delay: float = 0.0,
        hang: bool = False,
        first_delay: float = 0.0,
        finish_reason: str = "",
    ) -> Reply:
        """A streamed answer, `delay` seconds between chunks; `hang` keeps the stream open
        after the last chunk (no [DONE]) until the client disconnects; `finish_reason` as
        in `plain`."""
        return cls(
            kind="stream",
            chunks=list(chunks),
            text="".join(chunks),
            chunk_delay=delay,
            delay=first_delay,
            hang_after_chunks=hang,
            finish_reason=finish_reason,
        )

    @classmethod
    def cut(cls, chunks: list[str], *, how: Literal["close", "done"] = "close") -> Reply:
        """A streamed answer that stops mid-way: the connection drops after `chunks`
        ("close"), or the stream ends without the model's finish ("done")."""
        return cls(kind="stream", chunks=list(chunks), text="".join(chunks), cut_after_chunks=how)

    @classmethod
    def tool_call(
        cls, name: str, arguments: dict[str, Any] | str, *, text: str = "", call_id: str = ""
    ) -> Reply:
        """An assistant message calling one tool (OpenAI `tool_calls` format)."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call = {
            "id": call_id or f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": name, "arguments": args},
        }
        return cls(kind="tool_calls", text=text, tool_calls=[call])

    @classmethod
    def tool_calls_reply(cls, calls: list[tuple[str, dict[str, Any]]]) -> Reply:
        """An assistant message calling several tools at once."""
        out = [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in calls
        ]
        return cls(kind="tool_calls", tool_calls=out)

    @classmethod
    def malformed(cls, body: str = "", content_type: str = "") -> Reply:
        """HTTP 200 whose body is no answer (a broken provider or proxy): by default cut-off
        JSON; `body` and `content_type` give others (an HTML page, an SSE stream of garbage)."""
        return cls(kind="malformed", text=body, content_type=content_type)

    @classmethod
    def error(cls, status: int, message: str = "", *, retry_after: float | None = None) -> Reply:
        """An HTTP error (429 rate limit, 500/503 outage...) with an OpenAI-style error body."""
        return cls(kind="error", status=status, error_message=message, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Reply:
        return cls.error(429, "Rate limit reached (scripted)", retry_after=retry_after)

    @classmethod
    def slow(cls, text: str, delay: float) -> Reply:
        """A plain answer that only arrives after `delay` seconds (for timeout tests)."""
        return cls(kind="text", text=text, delay=delay)

    @classmethod
    def hang(cls) -> Reply:
        """Never answer; the handler waits until the client disconnects or the server stops."""
        return cls(kind="hang")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], "", 0, 0.0, False)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """Build from a script entry: {"kind": "stream", "chunks": [...], "chunk_delay": 0.1}."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown reply field(s): {sorted(unknown)}")
        reply = cls(**data)
        if reply.kind == "stream" and not reply.text:
            reply.text = "".join(reply.chunks)
        return reply


@dataclass
class RecordedRequest:
    """What the server received, and how long it spent answering (server side)."""

    method: str
    path: str
    raw: str
    body: Any
    headers: dict[str, str]
    model: str | None
    reply_kind: str | None = None
    started: float = 0.0
    finished: float = 0.0
    disconnected: bool = False
    chunks_sent: int = 0

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished - self.started)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "model": self.model,
            "reply_kind": self.reply_kind,
            "seconds": self.seconds,
            "disconnected": self.disconnected,
            "chunks_sent": self.chunks_sent,
        }


class _ClientGone(Exception):
    """The client closed the connection (cancelled or timed out)."""


class ModelServer:
    """The scripted server. Thread-safe: tests script while litellm calls it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._queues: dict[str | None, deque[Reply]] = {None: deque()}
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.responder: Callable[[dict[str, Any]], Reply | None] | None = None
        self.default_reply: Reply | None = None
        self.models: list[str] = [DEFAULT_MODEL]

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> ModelServer:
        handler = _make_handler(self)
        httpd = ThreadingHTTPServer((self._host, self._port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (`api_base`), e.g. http://127.0.0.1:PORT/v1."""
        return f"http://{self._host}:{self.port}/v1"

    # scripting -------------------------------------------------------------------------
    def script(self, *replies: Reply, model: str | None = None, repeat: int = 1) -> None:
        """Queue replies (in order) for `model` (wire name), or for any model if None."""
        with self._lock:
            queue = self._queues.setdefault(model, deque())
            for _ in range(repeat):
                queue.extend(replies)
            if model is not None and model not in self.models:
                self.models.append(model)

    def load_script(self, data: dict[str, Any]) -> None:
        """Queue a JSON script: {"replies": [...], "models": {"m": [...]}, "default": {...}}."""
        for entry in data.get("replies", []):
            self.script(Reply.from_dict(entry))
        for model, entries in data.get("models", {}).items():
            for entry in entries:
                self.script(Reply.from_dict(entry), model=model)
        if "default" in data:
            self.default_reply = Reply.from_dict(data["default"])

    def reset(self) -> None:
        """Drop queued replies and recorded requests."""
        with self._lock:
            self._queues = {None: deque()}
            self._requests.clear()
            self.default_reply = None
            self.responder = None

    def pending(self, model: str | None = None) -> int:
        """Replies still queued for `model` (None: the default queue)."""
        with self._lock:
            return len(self._queues.get(model, ()))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def all_sent_text(self) -> str:
        """Every request body received, concatenated (for 'no secret left' assertions)."""
        return "\n".join(r.raw for r in self.requests)

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least `n` requests arrived (for tests racing a background run)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reqs = self.requests
            if len(reqs) >= n:
                return reqs
            time.sleep(0.01)
        raise TimeoutError(f"expected {n} requests, got {len(self.requests)}")

    def wait_for_disconnect(self, timeout: float = 10.0) -> RecordedRequest:
        """Block until some request saw its client disconnect (cancellation tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for req in self.requests:
                if req.disconnected:
                    return req
            time.sleep(0.01)
        raise TimeoutError("no client disconnected")

    # internals -------------------------------------------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _next_reply(self, body: dict[str, Any]) -> Reply | None:
        model = body.get("model")
        with self._lock:
            for key in (model, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        if self.responder is not None:
            reply = self.responder(body)
            if reply is not None:
                return reply
        return self.default_reply


# --- wire format ------------------------------------------------------------------------


def _estimate_tokens(text: str) -> int:
    """Crude, deterministic token count: words and punctuation runs."""
    return max(1, len(re.findall(r"\w+|[^\w\s]", text)))


def _prompt_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for msg in body.get("messages", []) or []:
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    prompt = (
        reply.prompt_tokens
        if reply.prompt_tokens is not None
        else _estimate_tokens(_prompt_text(body))
    )
    answer = reply.text + (json.dumps(reply.tool_calls) if reply.tool_calls else "")
    completion = (
        reply.completion_tokens if reply.completion_tokens is not None else _estimate_tokens(answer)
    )
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _completion_body(reply: Reply, body: dict[str, Any], cid: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    finish = reply.finish_reason or "stop"
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
        finish = "tool_calls"
    elif message["content"] is None:
        message["content"] = ""
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", DEFAULT_MODEL),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(reply, body),
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _stream_events(
    reply: Reply, body: dict[str, Any], cid: str
) -> Iterator[tuple[dict[str, Any], float]]:
    """(chunk, delay-before-it) pairs for a streamed answer, without [DONE]."""
    model = str(body.get("model", DEFAULT_MODEL))
    yield _chunk(cid, model, {"role": "assistant", "content": ""}, None), reply.delay
    pieces = reply.chunks if reply.kind == "stream" else ([reply.text] if reply.text else [])
    for i, piece in enumerate(pieces):
        yield _chunk(cid, model, {"content": piece}, None), (reply.chunk_delay if i else 0.0)
    finish = reply.finish_reason or "stop"
    if reply.tool_calls:
        finish = "tool_calls"
        for i, call in enumerate(reply.tool_calls):
            head = {
                "index": i,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            yield _chunk(cid, model, {"tool_calls": [head]}, None), 0.0
            args = {"index": i, "function": {"arguments": call["function"]["arguments"]}}
            yield _chunk(cid, model, {"tool_calls": [args]}, None), 0.0
    if reply.hang_after_chunks or reply.cut_after_chunks:
        return
    yield _chunk(cid, model, {}, finish), 0.0
    usage_chunk = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": _usage(reply, body),
    }
    yield usage_chunk, 0.0


def _embedding(text: str, dim: int) -> list[float]:
    """Hashed bag of words, L2-normalised: deterministic, and similar texts score similar."""
    vec = [0.0] * dim
    for token in re.findall(r"\w+", text.lower()) or [text]:
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _make_handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "llmgenie-scripted-model/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            """Silence per-request logging (tests assert on recorded requests instead)."""

        # ---- helpers
        def _send_json(
            self, status: int, payload: Any, headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self._send_bytes(status, data, "application/json", headers)

        def _send_bytes(
            self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _client_gone(self) -> bool:
            """True if the peer closed its end (readable with zero bytes pending)."""
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                if not readable:
                    return False
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except (OSError, ValueError):
                return True

        def _sleep(self, seconds: float) -> None:
            """Sleep, but notice a disconnect or server stop within ~10 ms."""
            deadline = time.monotonic() + seconds
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if server._stopping.is_set() or self._client_gone():
                    raise _ClientGone()
                time.sleep(min(0.01, remaining))

        def _read_body(self) -> tuple[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
            try:
                return raw, json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                return raw, None

        # ---- routes
        def do_GET(self) -> None:
            rec = RecordedRequest("GET", self.path, "", None, dict(self.headers), None)
            rec.started = time.monotonic()
            try:
                if self.path.rstrip("/").endswith("/v1/models"):
                    data = [
                        {"id": m, "object": "model", "created": 0, "owned_by": "llmgenie-tests"}
                        for m in server.models
                    ]
                    self._send_json(200, {"object": "list", "data": data})
                elif self.path.startswith("/_requests"):
                    self._send_json(200, [r.to_dict() for r in server.requests])
                    return
                elif self.path.startswith("/_health"):
                    self._send_json(200, {"ok": True})
                    return
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            finally:
                rec.finished = time.monotonic()
                if not self.path.startswith(("/_requests", "/_health")):
                    server._record(rec)

        def do_POST(self) -> None:
            raw, body = self._read_body()
            if self.path.startswith("/_script"):
                try:
                    server.load_script(body or {})
                    self._send_json(200, {"ok": True})
                except (ValueError, TypeError) as exc:
                    self._send_json(400, {"error": {"message": str(exc)}})
                return
            if self.path.startswith("/_reset"):
                server.reset()
                self._send_json(200, {"ok": True})
                return
            model = body.get("model") if isinstance(body, dict) else None
            rec = RecordedRequest(
                "POST", self.path, raw, body, dict(self.headers), model, started=time.monotonic()
            )
            server._record(rec)
            try:
                if not isinstance(body, dict):
                    self._send_json(400, {"error": {"message": "request body is not JSON"}})
                elif self.path.rstrip("/").endswith("/chat/completions"):
                    self._chat(body, rec)
                elif self.path.rstrip("/").endswith("/embeddings"):
                    self._embeddings(body)
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            except (_ClientGone, BrokenPipeError, ConnectionResetError):
                rec.disconnected = True
                self.close_connection = True
            finally:
                rec.finished = time.monotonic()

        def _embeddings(self, body: dict[str, Any]) -> None:
            inputs = body.get("input", [])
            if isinstance(inputs, str):
                inputs = [inputs]
            dim = int(body.get("dimensions") or EMBEDDING_DIM)
            data = [
                {"object": "embedding", "index": i, "embedding": _embedding(str(t), dim)}
                for i, t in enumerate(inputs)
            ]
            tokens = sum(_estimate_tokens(str(t)) for t in inputs)
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": body.get("model", DEFAULT_MODEL),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def _chat(self, body: dict[str, Any], rec: RecordedRequest) -> None:
            reply = server._next_reply(body)
            if reply is None:
                rec.reply_kind = "exhausted"
                self._send_json(
                    500,
                    {
                        "error": {
                            "message": f"scripted model server: no reply left for model "
                            f"{body.get('model')!r}",
                            "type": "server_error",
                        }
                    },
                )
                return
            rec.reply_kind = reply.kind
            if reply.kind == "hang":
                while True:
                    self._sleep(0.05)
            if reply.kind == "error":
                self._sleep(reply.delay)
                headers = {}
                if reply.retry_after is not None:
                    headers["Retry-After"] = str(reply.retry_after)
                err_type = "rate_limit_error" if reply.status == 429 else "server_error"
                message = reply.error_message or f"scripted HTTP {reply.status}"
                self._send_json(
                    reply.status, {"error": {"message": message, "type": err_type}}, headers
                )
                return
            if reply.kind == "malformed":
                self._sleep(reply.delay)
                body = reply.text.encode() or b'{"id": "broken", "choices": ['
                self._send_bytes(200, body, reply.content_type or "application/json")
                return
            cid = f"chatcmpl-{uuid.uuid4().hex[:16]}"
            if body.get("stream"):
                self._stream(reply, body, cid, rec)
                return
            self._sleep(reply.delay)
            self._send_json(200, _completion_body(reply, body, cid))

        def _stream(
            self, reply: Reply, body: dict[str, Any], cid: str, rec: RecordedRequest
        ) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()

            def send(data: bytes) -> None:
                self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            for chunk, delay in _stream_events(reply, body, cid):
                if delay:
                    self._sleep(delay)
                send(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                rec.chunks_sent += 1
            if reply.hang_after_chunks:
                while True:
                    self._sleep(0.05)
            if reply.cut_after_chunks == "close":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            send(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Run the server as a process (for the VS Code e2e test and manual checks)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", type=Path, help="JSON script of replies")
    parser.add_argument("--default-text", help="answer this when the script is exhausted")
    parser.add_argument(
        "--keep-alive", action="store_true", help="keep serving after the parent process exits"
    )
    args = parser.parse_args(argv)
    server = ModelServer(args.host, args.port)
    if args.script:
        server.load_script(json.loads(args.script.read_text(encoding="utf-8")))
    if args.default_text is not None:
        server.default_reply = Reply.plain(args.default_text)
    server.start()
    print(f"model server listening on {server.url}", flush=True)
    parent = os.getppid()
    try:
        # Exit with the process that started us: a crashed test harness must not leak us.
        while args.keep_alive or os.getppid() == parent:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(Exception):
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
