"""The workspace a delegated run's agents see on the team server.

The code stays on the developer's machine: each run gets an empty sandbox directory here,
and its engine answers the agents' questions (read a file, search, symbols, definitions,
references, repo map) by asking the editor's own index over the run's WebSocket, with a
deadline; the editor redacts every answer before it leaves. A headless run (no editor)
works on the files submitted with it, written into the sandbox and indexed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from llmgenie.config import Settings
from llmgenie.contracts import ids
from llmgenie.contracts.search import SearchResult
from llmgenie.contracts.symbols import Reference, Symbol
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.layout import IndexLayout, layout_for
from llmgenie.observability.logging import get_logger
from llmgenie.workspace.files import FileTooLargeError, TextWindow, resolve_inside, text_window

_log = get_logger(__name__)


class ChannelClosed(ConnectionError):
    """No editor is connected for this run (or it stopped answering)."""


class EditorChannel(Protocol):
    """Requests to the editor that submitted a run (blocking, from the run's thread)."""

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        """The editor's answer; ChannelClosed if there is no editor, TimeoutError late."""
        ...


class NoEditor:
    """A headless run: every question is answered from the sandbox."""

    def call(self, method: str, params: dict[str, Any], timeout: float) -> Any:
        raise ChannelClosed("no editor is connected to this run")


def sandbox_settings(settings: Settings, sandbox: Path) -> Settings:
    """The run's settings with its index inside the sandbox and no embedding calls."""
    index = settings.index.model_copy(
        update={"cache_dir": sandbox / ".index", "embeddings": "none", "ignore": [".index/**"]}
    )
    return settings.model_copy(update={"index": index})


def write_files(sandbox: Path, files: dict[str, str]) -> None:
    """Write a headless run's files into its sandbox (paths confined to it)."""
    for rel, text in files.items():
        path = resolve_inside(sandbox, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


class EditorWorkspace(WorkspaceEngine):
    """A WorkspaceEngine whose reads go to the editor first, then to the sandbox."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        layout: IndexLayout,
        channel: EditorChannel,
        timeout_s: float,
        run_id: str = "",
    ) -> None:
        super().__init__(root, settings, layout)
        self._channel = channel
        self._timeout = timeout_s
        self._run_id = run_id

    @classmethod
    def for_run(
        cls,
        run_id: str,
        sandbox: Path,
        settings: Settings,
        channel: EditorChannel,
        timeout_s: float,
    ) -> EditorWorkspace:
        """The engine of one run over its sandbox (its files, if any, indexed now)."""
        run_settings = sandbox_settings(settings, sandbox)
        root = sandbox.resolve()
        layout = layout_for(root, run_settings)
        engine = cls(root, run_settings, layout, channel, timeout_s, run_id)
        engine.index()
        return engine

    def _ask(self, method: str, params: dict[str, Any]) -> Any | None:
        """The editor's answer, or None when there is no editor (the sandbox answers)."""
        try:
            return self._channel.call(method, {**params, "runId": self._run_id}, self._timeout)
        except ChannelClosed:
            return None
        except TimeoutError as exc:
            raise TimeoutError(
                f"the editor did not answer {method} within {self._timeout:.0f}s"
            ) from exc

    def read_text(self, rel_path: str, max_bytes: int | None = None) -> str:
        answer = self._ask(ids.CALLBACK_READ_FILE, {"path": self.rel(rel_path)})
        if answer is None:
            return super().read_text(rel_path, max_bytes)
        if answer.get("text") is None:
            raise FileNotFoundError(f"no such file in the editor's workspace: {rel_path}")
        text = str(answer["text"])
        if max_bytes is not None and len(text) > max_bytes:
            raise FileTooLargeError(f"{rel_path} is larger than {max_bytes} bytes")
        return text

    def read_window(self, rel_path: str, start: int, end: int, max_bytes: int) -> TextWindow:
        """The editor's text of the file, windowed (it arrived whole in one answer)."""
        return text_window(self.read_text(rel_path), start, end, max_bytes=max_bytes)

    def search(self, query: str, k: int = 10, focus: str | None = None) -> SearchResult:
        answer = self._ask(ids.CALLBACK_SEARCH, {"query": query, "k": k, "focus": focus})
        if answer is None:
            return super().search(query, k, focus)
        return SearchResult.model_validate(answer)

    def symbols(self, rel_path: str) -> list[Symbol]:
        answer = self._ask(ids.CALLBACK_SYMBOLS, {"path": self.rel(rel_path)})
        if answer is None:
            return super().symbols(rel_path)
        return [Symbol(**s) for s in answer.get("symbols", [])]

    def find_definitions(self, name: str) -> list[Symbol]:
        answer = self._ask(ids.CALLBACK_DEFINITIONS, {"name": name})
        if answer is None:
            return super().find_definitions(name)
        return [Symbol(**s) for s in answer.get("symbols", [])]

    def find_references(self, name: str) -> list[Reference]:
        answer = self._ask(ids.CALLBACK_REFERENCES, {"name": name})
        if answer is None:
            return super().find_references(name)
        return [Reference(**r) for r in answer.get("references", [])]

    def repo_map(self, focus: str | None = None, tokens: int = 1024) -> str:
        answer = self._ask(ids.CALLBACK_REPO_MAP, {"focus": focus, "tokens": tokens})
        if answer is None:
            return super().repo_map(focus, tokens)
        return str(answer.get("map", ""))
