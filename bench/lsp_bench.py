"""Language-server benchmark: the editor-facing latencies and memory, over a real pipe.

    python -m bench.lsp_bench [--launches 15] [--actions 300] [--edits 100] [--repo PATH]

Measures, each against fresh `llmgenie serve --stdio` processes:
  1. cold start: process launch -> `initialize` response (median/p95 over N launches),
     with the fast path and with LLMGENIE_LSP_FASTINIT=0 (pygls answers);
  2. textDocument/codeAction p50/p95 on a generated 5,000-line Python file;
  3. didChange -> llmgenie/search returns the changed file (p50/p95);
  4. RSS of the server (and its index workers) after indexing a large repository
     (default: this venv's site-packages; lexical + symbols, embeddings off).
Prints one JSON object on stdout (progress on stderr). Budgets: docs/benchmarks_lsp.md.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.rss import PeakRssSampler, tree_rss

SERVER = [sys.executable, "-m", "llmgenie", "serve", "--stdio"]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


class Pipe:
    """A minimal LSP client over the server's stdin/stdout (a reader thread frames replies)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        self._next = 0
        self._replies: dict[int, queue.Queue[tuple[float, dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(out.read(length))
            at = time.perf_counter()
            if "method" in message:
                if "id" in message:  # server -> client request: accept it
                    self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
                else:
                    self.notifications.put(message)
                continue
            with self._lock:
                box = self._replies.get(message.get("id"))
            if box is not None:
                box.put((at, message))

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def send(self, method: str, params: Any) -> queue.Queue[tuple[float, dict[str, Any]]]:
        with self._lock:
            self._next += 1
            msg_id = self._next
            box: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
            self._replies[msg_id] = box
        self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return box

    def call(self, method: str, params: Any, timeout: float = 600) -> dict[str, Any]:
        _, reply = self.send(method, params).get(timeout=timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result") or {}
        return result

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def initialize(self, root: Path | None, options: dict[str, Any] | None = None) -> float:
        """Send initialize; returns seconds from process launch to the response."""
        params = {
            "processId": os.getpid(),
            "rootUri": root.as_uri() if root else None,
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}] if root else None,
            "capabilities": {"window": {"workDoneProgress": True}},
            "initializationOptions": options or {},
        }
        at, reply = self.send("initialize", params).get(timeout=120)
        assert "result" in reply, reply
        self.notify("initialized", {})
        return at - self.started

    def wait_indexed(self, timeout: float = 3600) -> None:
        """Until llmgenie/status reports idle after having indexed."""
        seen_indexing = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.notifications.get(timeout=timeout)
            if msg["method"] != "llmgenie/status":
                continue
            state = msg["params"]["indexing"]["state"]
            seen_indexing = seen_indexing or state == "indexing"
            if seen_indexing and state == "idle":
                return
        raise TimeoutError("indexing did not finish")

    def close(self) -> None:
        try:
            self.call("shutdown", None, timeout=120)
            self.notify("exit", None)
            self.proc.wait(timeout=60)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def bench_cold_start(launches: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, env in (("fast_path", {}), ("pygls_only", {"LLMGENIE_LSP_FASTINIT": "0"})):
        times = []
        for i in range(launches):
            pipe = Pipe(env)
            times.append(pipe.initialize(None) * 1000)
            pipe.close()
            _log(f"cold start {label} {i + 1}/{launches}: {times[-1]:.0f} ms")
        out[label] = _summary(times)
    return out


def generate_python(lines: int) -> str:
    """A realistic-looking module: classes with methods, helpers, docstrings."""
    parts = ['"""Generated module for the code-action benchmark."""\n', "import math\n\n"]
    count = 2
    n = 0
    while count < lines:
        parts.append(
            f"class Service{n}:\n"
            f'    """Service number {n}."""\n\n'
            f"    def __init__(self, size):\n        self.size = size\n        self.items = []\n\n"
            f"    def add(self, value):\n        self.items.append(value * {n})\n"
            f"        return len(self.items)\n\n"
            f"    def total(self):\n        acc = 0\n        for item in self.items:\n"
            f"            acc += math.sqrt(abs(item))\n        return acc\n\n\n"
            f"def helper_{n}(a, b):\n    if a > b:\n        return a - b\n    return b - a\n\n\n"
        )
        count += 24
        n += 1
    return "".join(parts)


def bench_code_actions(root: Path, requests: int) -> dict[str, Any]:
    source = generate_python(5000)
    path = root / "big_module.py"
    path.write_text(source)
    line_count = source.count("\n")
    pipe = Pipe()
    try:
        pipe.initialize(root, {"embeddings": "none"})
        pipe.wait_indexed()
        uri = path.as_uri()
        pipe.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": source}},
        )
        pipe.call("llmgenie/search", {"query": "helper_1"})  # the buffer is in the index
        times = []
        for i in range(requests):
            line = (i * 37) % line_count
            params = {
                "textDocument": {"uri": uri},
                "range": {
                    "start": {"line": line, "character": 8},
                    "end": {"line": line, "character": 8},
                },
                "context": {"diagnostics": []},
            }
            started = time.perf_counter()
            at, reply = pipe.send("textDocument/codeAction", params).get(timeout=60)
            assert reply.get("result"), reply
            times.append((at - started) * 1000)
        return {"file_lines": line_count, **_summary(times)}
    finally:
        pipe.close()


def bench_edit_to_search(root: Path, edits: int) -> dict[str, Any]:
    path = root / "big_module.py"
    uri = path.as_uri()
    text = path.read_text()
    pipe = Pipe()
    try:
        pipe.initialize(root, {"embeddings": "none"})
        pipe.wait_indexed()
        pipe.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        pipe.call("llmgenie/search", {"query": "helper_1"})
        times = []
        for i in range(edits):
            marker = f"fresh_marker_{i}_{os.getpid()}"
            started = time.perf_counter()
            pipe.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": i + 2},
                    "contentChanges": [
                        {
                            "range": {
                                "start": {"line": 2, "character": 0},
                                "end": {"line": 2, "character": 0},
                            },
                            "text": f"def {marker}():\n    return {i}\n",
                        }
                    ],
                },
            )
            result = pipe.call("llmgenie/search", {"query": marker, "k": 3})
            elapsed = (time.perf_counter() - started) * 1000
            assert result["files"] and result["files"][0]["path"] == "big_module.py", result
            times.append(elapsed)
        return {"file_lines": text.count("\n"), **_summary(times)}
    finally:
        pipe.close()


def bench_rss(repo: Path) -> dict[str, Any]:
    pipe = Pipe()
    try:
        started = time.perf_counter()
        with PeakRssSampler(pipe.proc.pid, interval_s=0.2) as sampler:
            pipe.initialize(repo, {"embeddings": "none"})
            pipe.wait_indexed()
        seconds = time.perf_counter() - started
        health = pipe.call("llmgenie/health", {})
        time.sleep(1.0)  # let the index worker processes exit
        after = tree_rss(pipe.proc.pid)
        index = health.get("index") or {}
        return {
            "repo": str(repo),
            "files": index.get("files"),
            "symbols": index.get("symbols"),
            "chunks": index.get("chunks"),
            "index_seconds": round(seconds, 1),
            "rss_after_mib": round(after / 2**20, 1),
            "peak_tree_rss_mib": round(sampler.peak / 2**20, 1),
        }
    finally:
        pipe.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=15)
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--repo", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument("--skip", default="", help="comma list of: cold,actions,edits,rss")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, Any] = {"machine": describe("bench.lsp_bench", argv or sys.argv[1:])}
    with tempfile.TemporaryDirectory(prefix="lsp-bench-") as tmp:
        base = Path(tmp)
        os.environ.setdefault("LLMGENIE_CACHE_DIR", str(base / "cache"))
        os.environ.setdefault("LLMGENIE_DATA_DIR", str(base / "data"))
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        root = base / "ws"
        root.mkdir()
        if "cold" not in skip:
            results["cold_start_initialize"] = bench_cold_start(args.launches)
        if "actions" not in skip:
            results["code_action_5000_lines"] = bench_code_actions(root, args.actions)
            _log(f"codeAction: {results['code_action_5000_lines']}")
        if "edits" not in skip:
            if not (root / "big_module.py").exists():
                (root / "big_module.py").write_text(generate_python(5000))
            results["did_change_to_search"] = bench_edit_to_search(root, args.edits)
            _log(f"didChange->search: {results['did_change_to_search']}")
        if "rss" not in skip:
            results["rss_after_index"] = bench_rss(args.repo.resolve())
            _log(f"rss: {results['rss_after_index']}")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
