"""DocumentSync: a read that flushes waits for an update already in flight, so a search
right after didOpen sees the opened buffer (the race CI hit once)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from llmgenie.app.documents import BufferText, DocumentSync
from llmgenie.app.folders import Folder, FolderRegistry
from llmgenie.config import Settings

T = TypeVar("T")


class _Engine:
    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def update_document(self, rel: str, text: str, version: int | None) -> None:
        self.texts[rel] = text


class _Buffers:
    def __init__(self) -> None:
        self.docs: dict[Path, BufferText] = {}

    def text(self, path: Path) -> BufferText | None:
        return self.docs.get(path)

    def open_paths(self) -> list[Path]:
        return list(self.docs)


async def test_flush_all_waits_for_the_update_that_didopen_started(tmp_path: Path) -> None:
    engine = _Engine()
    registry = FolderRegistry()
    registry.add(Folder(root=tmp_path, settings=Settings(), engine=cast(Any, engine)))
    buffers = _Buffers()
    gate = threading.Event()

    async def offload(fn: Callable[[], T]) -> T:
        def gated() -> T:
            gate.wait(30)
            return fn()

        return await asyncio.to_thread(gated)

    sync = DocumentSync(registry, buffers, offload, lambda _path: None)
    path = tmp_path / "a.py"
    buffers.docs[path] = BufferText("def opened_zz(): pass\n", 1)

    sync.opened(path)  # spawns the update, which blocks on the gate
    await asyncio.sleep(0)
    reader = asyncio.create_task(sync.flush_all())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not reader.done(), "flush_all returned while the didOpen update was in flight"
    gate.set()
    await asyncio.wait_for(reader, 30)
    assert engine.texts == {"a.py": "def opened_zz(): pass\n"}
