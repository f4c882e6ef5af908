"""`llmgenie model serve`: the supervised local model server, with a stand-in for
llama-cpp-python's server (the scripted OpenAI-compatible model server, started the same
way: a child process told its port) so no llama.cpp build is needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from llmgenie.llm.client import ModelClient
from llmgenie.llm.llama_server import (
    LlamaServer,
    LlamaServerFailed,
    free_port,
    llama_command,
    llama_cpp_installed,
)

# Serves like llama.cpp's server while `state` counts fewer than `healthy` starts; later
# starts fail the way a broken model file does. Writes the OMP_WAIT_POLICY it was given.
STAND_IN = """
import os, pathlib, runpy, sys
state, port, seen, healthy = sys.argv[1:5]
state = pathlib.Path(state)
starts = int(state.read_text()) if state.exists() else 0
state.write_text(str(starts + 1))
pathlib.Path(seen).write_text(os.environ.get("OMP_WAIT_POLICY", ""))
if starts >= int(healthy):
    print("error: cannot load the model file", flush=True)
    sys.exit(3)
sys.argv = ["model_server", "--port", port, "--default-text", "served locally"]
runpy.run_module("tests.support.model_server", run_name="__main__")
"""


def _server(tmp_path: Path, healthy: int, **options: object) -> LlamaServer:
    port = free_port()
    command = [
        sys.executable,
        "-c",
        STAND_IN,
        str(tmp_path / "starts"),
        str(port),
        str(tmp_path / "omp"),
        str(healthy),
    ]
    return LlamaServer(command, url=f"http://127.0.0.1:{port}", **options)  # type: ignore[arg-type]


def test_the_command_uses_all_cores_but_one_and_a_usable_window(tmp_path: Path) -> None:
    command = llama_command(tmp_path / "m.gguf", host="127.0.0.1", port=8080)
    assert command[1:3] == ["-m", "llama_cpp.server"]
    threads = command[command.index("--n_threads") + 1]
    assert threads == str(max(1, (os.cpu_count() or 1) - 1))
    assert command[command.index("--n_ctx") + 1] == "8192"


def test_a_served_model_answers_llmgenie_and_idles_politely(tmp_path: Path) -> None:
    with _server(tmp_path, healthy=1) as server:
        assert httpx.get(f"{server.api_base}/models").status_code == 200
        client = ModelClient(["openai/local-gguf"], api_base=server.api_base, max_retries=0)
        answer = client.complete([{"role": "user", "content": "hi"}])
        assert answer.text == "served locally"
        assert (tmp_path / "omp").read_text() == "PASSIVE"
        process = server.process
    assert process is not None and process.poll() is not None  # stopped on exit


def test_a_server_that_dies_is_restarted(tmp_path: Path) -> None:
    restarted = threading.Event()
    server = _server(tmp_path, healthy=2, on_restart=lambda n, code: restarted.set())
    server.start()
    supervisor = threading.Thread(target=server.supervise, daemon=True)
    supervisor.start()
    try:
        first = server.process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        assert restarted.wait(60), "no restart"
        assert server.process is not first and server.restarts == 1
        assert httpx.get(f"{server.api_base}/models").status_code == 200
    finally:
        server.stop()
    supervisor.join(30)
    assert not supervisor.is_alive()
    assert server.process is not None and server.process.poll() is not None


def test_a_server_that_keeps_dying_is_given_up_with_its_last_words(tmp_path: Path) -> None:
    server = _server(tmp_path, healthy=1, max_restarts=2)
    server.start()
    failure: list[BaseException] = []

    def supervise() -> None:
        try:
            server.supervise()
        except LlamaServerFailed as exc:
            failure.append(exc)

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGKILL)
    supervisor.join(60)
    server.stop()
    [exc] = failure
    assert "died 3 time(s) in a row" in str(exc) and "cannot load the model file" in str(exc)
    assert (tmp_path / "starts").read_text() == "3"  # the first start and two restarts


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    server = _server(tmp_path, healthy=0)
    with pytest.raises(LlamaServerFailed, match="exited with code 3") as info:
        server.start()
    assert "cannot load the model file" in str(info.value)


@pytest.mark.skipif(llama_cpp_installed(), reason="the local extra is installed here")
def test_serve_without_the_local_extra_says_what_to_install(tmp_path: Path) -> None:
    model = tmp_path / "qwen.gguf"
    model.write_bytes(b"GGUF")
    result = subprocess.run(
        [sys.executable, "-m", "llmgenie", "model", "serve", str(model)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "pip install 'llmgenie[local]'" in result.stderr


def test_a_server_killed_by_a_cpu_fault_is_started_again_with_portable_kernels(
    tmp_path: Path,
) -> None:
    # llama.cpp's AMX kernels die with SIGSEGV where the CPU reports AMX but may not use
    # it: the first command dies that way, the fallback (portable kernels) serves.
    crashing = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    standing_in = _server(tmp_path, healthy=1)
    server = LlamaServer(crashing, url=standing_in.url, fallback=standing_in.command)
    try:
        server.start()
        assert server.command == standing_in.command and server.fallback is None
        assert httpx.get(f"{server.api_base}/models", timeout=5).status_code == 200
    finally:
        server.stop()
    # An ordinary failure (an exit code, not a signal) does not switch.
    broken = LlamaServer(
        [sys.executable, "-c", "raise SystemExit(3)"], url=standing_in.url, fallback=["x"]
    )
    with pytest.raises(LlamaServerFailed):
        broken.start()
    assert broken.fallback == ["x"]


def test_the_portable_command_goes_through_the_launcher(tmp_path: Path) -> None:
    command = llama_command(tmp_path / "m.gguf", host="127.0.0.1", port=8080, portable=True)
    assert command[1:3] == ["-m", "llmgenie.llm.llama_launch"]
    assert command[3:] == llama_command(tmp_path / "m.gguf", host="127.0.0.1", port=8080)[3:]
