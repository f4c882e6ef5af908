"""Agent tools against an unlucky filesystem: FIFOs, huge files, huge edits (issue 12)."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmgenie.agents.crews import execute_crew
from llmgenie.agents.run_state import RunState
from llmgenie.agents.tools import AgentToolbox
from llmgenie.redaction import redact
from tests.agents.conftest import Harness, tool_messages
from tests.support.model_server import Reply

MIB = 1024 * 1024


def toolbox(harness: Harness) -> AgentToolbox:
    state = RunState(ctx=harness.context("explain"), env=harness.env())
    return AgentToolbox(state, "coordinator")


@pytest.fixture
def fifo(harness: Harness) -> Iterator[Path]:
    """A named pipe in the workspace with no writer: opening it for reading blocks."""
    path = harness.root / "app" / "pipe.py"
    os.mkfifo(path)
    yield path
    # Release a reader stuck on the old code: a writer appears, then closes (EOF).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def call_with_deadline(call: Callable[[], str], seconds: float = 20) -> str:
    """`call()`'s result; fails the test (instead of hanging it) if it does not return."""
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert out, f"the tool call was still blocked after {seconds}s"
    return out[0]


def test_tools_refuse_a_fifo_instead_of_hanging(harness: Harness, fifo: Path) -> None:
    box = toolbox(harness)
    calls: dict[str, dict[str, object]] = {
        "read_file": {"path": "app/pipe.py"},
        "read_file_range": {"path": "app/pipe.py", "start_line": 1, "end_line": 3},
        "propose_edit": {"path": "app/pipe.py", "old_text": "a", "new_text": "b"},
        "report_finding": {
            "path": "app/pipe.py",
            "start_line": 1,
            "rule": "CWE-89",
            "message": "m",
        },
    }
    for label, args in calls.items():
        name = "read_file" if label.startswith("read_file") else label
        out = call_with_deadline(lambda n=name, a=args: box.call(n, a))  # type: ignore[misc]
        assert out.startswith("Error:") and "not a regular file" in out, (label, out)


def write_big_file(path: Path, megabytes: int) -> int:
    """A file of numbered 100-byte lines, `megabytes` MiB long; returns its line count."""
    per_block = MIB // 100
    lines = 0
    with path.open("wb") as handle:
        for _ in range(megabytes):
            block = b"".join(f"line {lines + i:<93}\n".encode() for i in range(per_block))
            handle.write(block)
            lines += per_block
    return lines


def test_reading_three_lines_of_a_200_mb_file_does_not_load_it(
    harness: Harness, tmp_path: Path
) -> None:
    total = write_big_file(harness.root / "big.log", 200)
    box = toolbox(harness)
    box.call("read_file", {"path": "app/db.py", "start_line": 1, "end_line": 1})  # warm up
    tracemalloc.start()
    try:
        out = box.call("read_file", {"path": "big.log", "start_line": 5000, "end_line": 5002})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    lines = out.splitlines()
    assert lines[0] == f"big.log (lines 5000-5002 of {total})"
    assert [line.split()[:2] for line in lines[1:4]] == [
        ["5000|", "line"],
        ["5001|", "line"],
        ["5002|", "line"],
    ]
    assert lines[1].split()[2] == "4999"  # the file's own numbering starts at 0
    assert peak < 16 * MIB, f"peak Python memory {peak / MIB:.1f} MiB for 3 lines"


def test_a_whole_file_read_stops_at_the_limit(harness: Harness) -> None:
    (harness.root / "one_line.min.txt").write_bytes(b"x" * (5 * MIB))
    box = toolbox(harness)
    tracemalloc.start()
    try:
        read = box.call("read_file", {"path": "one_line.min.txt"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read.splitlines()[0].startswith("one_line.min.txt (lines 1-1 of 1; long lines cut")
    assert peak < 16 * MIB
    edit = box.call("propose_edit", {"path": "one_line.min.txt", "old_text": "x", "new_text": "y"})
    assert edit.startswith("Error:") and "larger than 4194304 bytes" in edit


def test_an_oversized_edit_is_refused_and_the_run_ends(harness: Harness) -> None:
    """A 20 MB proposed edit: refused with a clear message, the run goes on and ends, and
    the 20 MB of history is redacted once, not again every round."""
    huge = "print('hello')\n" * (20 * MIB // 15)
    redacted_sizes: list[int] = []

    def counting_redact(text: str) -> str:
        if len(text) > MIB:
            redacted_sizes.append(len(text))
        return redact(text)

    harness.server.script(
        Reply.tool_call("propose_edit", {"path": "app/db.py", "old_text": huge, "new_text": "x"}),
        Reply.tool_call("read_file", {"path": "README.md", "start_line": 1, "end_line": 2}),
        Reply.stream(["Done."]),
    )
    env = harness.env()
    env.redact = counting_redact
    env.client._redact = counting_redact
    result = call_with_deadline(
        lambda: execute_crew(harness.context("chat", prompt="Rewrite it"), env).message, 120
    )

    assert result == "Done."
    refusal = tool_messages(harness.chat_bodies()[1])[0]
    assert refusal.startswith("Error: edit not recorded")
    assert "more than the 256000 an edit may have" in refusal
    assert len(redacted_sizes) == 1, redacted_sizes
    [called] = harness.recorder.actions("tool_called")[:1]
    assert len(json.dumps(called)) < 2000  # the audit keeps a short, redacted summary
