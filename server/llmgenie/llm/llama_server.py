"""A local model server for a GGUF file: llama-cpp-python's OpenAI-compatible server,
started, watched and stopped by llmgenie (`llmgenie model serve FILE`).

The server runs as a child process on 127.0.0.1 with the settings that matter on small
machines: one thread fewer than the cores (the editor and llmgenie need one) and
`OMP_WAIT_POLICY=PASSIVE` (idle OpenMP threads sleep instead of spinning on every core).
It counts as ready once `/v1/models` answers. When it dies it is restarted, at most
`max_restarts` times in a row without a healthy minute in between; `stop()` ends it (and
it ends with llmgenie: the process group is ours).

The command is injectable (`command=`), so the supervision is tested with a stand-in
OpenAI-compatible server instead of a 25-minute llama.cpp build. llama-cpp-python itself
is the optional extra `llmgenie[local]`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from llmgenie.observability.logging import get_logger

log = get_logger(__name__)

INSTALL_HINT = "llama-cpp-python is not installed: pip install 'llmgenie[local]'"
DEFAULT_CONTEXT = 8192  # llama-cpp-python's own default (2048) is too small for a briefing
READY_TIMEOUT_S = 300.0  # loading a large GGUF from a slow disk takes a while
MAX_RESTARTS = 3
HEALTHY_S = 60.0  # a server up this long has its restart count forgiven
_POLL_S = 0.2


class LlamaServerMissing(RuntimeError):
    """llama-cpp-python (the `local` extra) is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


class LlamaServerFailed(RuntimeError):
    """The server would not start, or kept dying; the message says how it ended."""


def llama_cpp_installed() -> bool:
    """Whether llama-cpp-python's server can be started by this interpreter."""
    return importlib.util.find_spec("llama_cpp") is not None


def default_threads() -> int:
    """Threads for generation: every core but one (at least one)."""
    return max(1, (os.cpu_count() or 1) - 1)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def llama_command(
    model_file: Path,
    *,
    host: str,
    port: int,
    threads: int | None = None,
    context: int = DEFAULT_CONTEXT,
    portable: bool = False,
) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server for `model_file`
    (`portable`: through llama_launch, without the CPU kernels that crash where AMX is
    reported but not granted)."""
    return [
        sys.executable,
        "-m",
        "llmgenie.llm.llama_launch" if portable else "llama_cpp.server",
        "--model",
        str(model_file),
        "--host",
        host,
        "--port",
        str(port),
        "--n_threads",
        str(threads or default_threads()),
        "--n_ctx",
        str(context),
    ]


def server_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours, with idle OpenMP threads sleeping."""
    env = dict(os.environ if base is None else base)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


class LlamaServer:
    """One supervised model server process (thread-safe `stop`)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        url: str,
        env: Mapping[str, str] | None = None,
        max_restarts: int = MAX_RESTARTS,
        ready_timeout_s: float = READY_TIMEOUT_S,
        on_restart: Callable[[int, int | None], None] | None = None,
        fallback: Sequence[str] | None = None,
    ) -> None:
        self.command = list(command)
        # The command to switch to once, when the server dies by a signal (portable kernels).
        self.fallback = list(fallback) if fallback else None
        self.url = url.rstrip("/")
        self.env = server_environment(env)
        self.max_restarts = max_restarts
        self.ready_timeout_s = ready_timeout_s
        self.on_restart = on_restart
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        # The child's output, for error messages; lives as long as this object.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    @classmethod
    def for_model(
        cls,
        model_file: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int | None = None,
        context: int = DEFAULT_CONTEXT,
    ) -> LlamaServer:
        """llama-cpp-python's server for `model_file`; LlamaServerMissing without the extra."""
        if not llama_cpp_installed():
            raise LlamaServerMissing()
        port = port or free_port(host)
        where = {"host": host, "port": port, "threads": threads, "context": context}
        return cls(
            llama_command(model_file, **where),  # type: ignore[arg-type]
            url=f"http://{host}:{port}",
            fallback=llama_command(model_file, portable=True, **where),  # type: ignore[arg-type]
        )

    @property
    def api_base(self) -> str:
        """The OpenAI-compatible base URL clients use (`llm.api_base`)."""
        return f"{self.url}/v1"

    def start(self) -> None:
        """Start the process and return once it answers; LlamaServerFailed otherwise."""
        self._spawn()
        try:
            self._wait_ready()
        except LlamaServerFailed:
            if not self._use_fallback():
                raise
            self._spawn()
            self._wait_ready()

    def _use_fallback(self) -> bool:
        """After a death by a signal (SIGSEGV, SIGILL: a CPU kernel the machine cannot
        run), switch to the fallback command once. True if switched."""
        code = self.process.returncode if self.process else None
        if self.fallback is None or code is None or code >= 0:
            return False
        log.warning("model_server_portable_kernels", exit_code=code)
        self.command, self.fallback = self.fallback, None
        return True

    def _spawn(self) -> None:
        self._log.seek(0)
        self._log.truncate()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its children too
        )
        log.info("model_server_started", pid=self.process.pid, url=self.url)

    def _output_tail(self, chars: int = 1500) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text[-chars:]

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.api_base}/models", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait_ready(self) -> None:
        process = self.process
        assert process is not None
        deadline = time.monotonic() + self.ready_timeout_s
        while not self._answers():
            code = process.poll()
            if code is not None:
                raise LlamaServerFailed(
                    f"the model server exited with code {code} before it answered:\n"
                    + self._output_tail()
                )
            if self._stopping.is_set():
                raise LlamaServerFailed("stopped before the model server answered")
            if time.monotonic() > deadline:
                self._terminate()
                raise LlamaServerFailed(
                    f"the model server did not answer within {self.ready_timeout_s:g}s:\n"
                    + self._output_tail()
                )
            self._stopping.wait(_POLL_S)
        log.info("model_server_ready", url=self.url)

    def supervise(self) -> None:
        """Keep the server running until `stop()`: restart it when it dies, at most
        `max_restarts` times in a row; LlamaServerFailed when it keeps dying."""
        while not self._stopping.is_set():
            process = self.process
            assert process is not None, "start() first"
            up_since = time.monotonic()
            while process.poll() is None and not self._stopping.is_set():
                self._stopping.wait(_POLL_S)
            if self._stopping.is_set():
                return
            code = process.returncode
            self._use_fallback()
            if time.monotonic() - up_since >= HEALTHY_S:
                self.restarts = 0
            while True:
                if self.restarts >= self.max_restarts:
                    raise LlamaServerFailed(
                        f"the model server died {self.restarts + 1} time(s) in a row (last "
                        f"exit code {code}):\n" + self._output_tail()
                    )
                self.restarts += 1
                log.warning("model_server_restarting", exit_code=code, restart=self.restarts)
                try:
                    self.start()
                    break
                except LlamaServerFailed:
                    if self._stopping.is_set():
                        return
                    code = self.process.returncode if self.process else None
            if self.on_restart is not None:
                self.on_restart(self.restarts, code)

    def stop(self) -> None:
        """End the server (SIGTERM to its process group, SIGKILL after 10 s)."""
        self._stopping.set()
        self._terminate()

    def _terminate(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.info("model_server_stopped", pid=process.pid, exit_code=process.returncode)

    def __enter__(self) -> LlamaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
