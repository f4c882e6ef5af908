"""Fixtures that run the real `llmgenie serve --stdio` process under a pytest-lsp client.

Every test gets its own server process, workspace (tmp dir) and index cache (the suite's
autouse fixture points LLMGENIE_CACHE_DIR at a tmp dir; the child inherits it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

from llmgenie.lsp.converter import make_converter

SERVER_COMMAND = [sys.executable, "-m", "llmgenie", "serve", "--stdio"]

PY_SOURCE = textwrap.dedent(
    '''\
    """Billing helpers."""

    import math


    class Invoice:
        """An invoice with line items."""

        def __init__(self, items):
            self.items = items

        def total(self):
            return sum(price * qty for price, qty in self.items)


    def compute_tax(amount, rate=0.2):
        return math.ceil(amount * rate * 100) / 100


    def format_money(value):
        return f"${value:,.2f}"
    '''
)

TS_SOURCE = textwrap.dedent(
    """\
    export interface User {
      id: number;
      name: string;
    }

    export async function fetchUser(id: number): Promise<User> {
      const response = await fetch(`/api/users/${id}`);
      return (await response.json()) as User;
    }

    export class UserCache {
      private users = new Map<number, User>();

      get(id: number): User | undefined {
        return this.users.get(id);
      }
    }
    """
)


def make_project(base: Path) -> Path:
    """A small Python + TypeScript project without Dockerfile or CI."""
    root = base / "project"
    (root / "web").mkdir(parents=True)
    (root / "billing.py").write_text(PY_SOURCE)
    (root / "web" / "client.ts").write_text(TS_SOURCE)
    (root / "README.md").write_text("# Project\n\nBilling service and web client.\n")
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_project(tmp_path)


class EditorClient:
    """A pytest-lsp LanguageClient plus the bits of an editor the tests need."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.lsp = client
        self.root = root
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.apply_edit_result = True
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.message_request_answer: str | None = "Apply"
        self.registrations: list[types.Registration] = []
        self.statuses: list[dict[str, Any]] = []
        self.run_events: list[dict[str, Any]] = []
        self.versions: dict[str, int] = {}

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str | None = None, language: str = "python") -> str:
        uri = self.uri(rel)
        body = text if text is not None else (self.root / rel).read_text()
        self.versions[uri] = 1
        self.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=body
                )
            )
        )
        return uri

    def change(self, uri: str, text: str, rng: types.Range | None = None) -> None:
        """Send one incremental change (replace `rng`, or insert at the start)."""
        self.versions[uri] += 1
        rng = rng or types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        self.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
            )
        )

    async def request(self, method: str, params: Any, timeout: float = 30) -> Any:
        return await asyncio.wait_for(self.lsp.protocol.send_request_async(method, params), timeout)

    async def command(self, name: str, arg: Any | None = None, timeout: float = 30) -> Any:
        params = types.ExecuteCommandParams(
            command=name, arguments=[arg] if arg is not None else []
        )
        return await asyncio.wait_for(self.lsp.workspace_execute_command_async(params), timeout)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 30, what: str = ""
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.02)

    async def wait_indexed(self, timeout: float = 60) -> None:
        """Until a status says indexing finished (idle) after having started."""
        await self.wait_until(
            lambda: (
                any(s["indexing"]["state"] == "indexing" for s in self.statuses)
                and self.statuses[-1]["indexing"]["state"] == "idle"
            ),
            timeout,
            "indexing to finish",
        )

    async def search_until(self, query: str, path: str, timeout: float = 20) -> dict[str, Any]:
        """Search until `path` has a chunk defining `query` (the index is eventually consistent)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = await self.request("llmgenie/search", {"query": query, "k": 10})
            if any(hit["path"] == path and hit["symbol"] == query for hit in result["chunks"]):
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path} never found for {query!r}: {result}")
            await asyncio.sleep(0.1)


def _capabilities(change_annotations: bool = True) -> types.ClientCapabilities:
    """What VS Code declares (the parts the server looks at); `change_annotations` False is
    an editor that would apply an annotated edit without asking (Neovim, Helix, Zed)."""
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            workspace_folders=True,
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True,
                resource_operations=[types.ResourceOperationKind.Create],
                change_annotation_support=(
                    types.ChangeAnnotationsSupportOptions(groups_on_label=True)
                    if change_annotations
                    else None
                ),
            ),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            ),
        ),
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(properties=["command"]),
            )
        ),
    )


def _make_client() -> LanguageClient:
    """pytest-lsp's client, but custom results/notifications stay plain JSON dicts."""
    client = LanguageClient(converter_factory=make_converter)
    register_lsp_features(client)
    return client


def _install_editor_features(editor: EditorClient) -> None:
    client = editor.lsp

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        editor.applied_edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=editor.apply_edit_result)

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        editor.message_requests.append(params)
        answer = editor.message_request_answer
        return None if answer is None else types.MessageActionItem(title=answer)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        editor.registrations.extend(params.registrations)

    @client.feature("llmgenie/status")
    def status(params: Any) -> None:
        editor.statuses.append(params)

    @client.feature("llmgenie/runEvent")
    def run_event(params: Any) -> None:
        editor.run_events.append(params)


@asynccontextmanager
async def start_editor(
    root: Path | None,
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    initialize: bool = True,
    change_annotations: bool = True,
    args: tuple[str, ...] = (),
) -> AsyncIterator[EditorClient]:
    """Launch the server (`args` after `serve --stdio`), initialize it on `root`, and shut it
    down cleanly afterwards."""
    # No Ollama unless a test serves one: a developer's own must not change what they see.
    server_env = {**os.environ, "OLLAMA_HOST": "127.0.0.1:9", **(env or {})}
    config = ClientServerConfig(
        server_command=[*SERVER_COMMAND, *args],
        server_env=server_env,
        client_factory=_make_client,
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    editor = EditorClient(client, root or Path("."))
    _install_editor_features(editor)
    try:
        if initialize:
            folders = [types.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None
            editor.initialize_result = await asyncio.wait_for(  # type: ignore[attr-defined]
                client.initialize_session(
                    types.InitializeParams(
                        capabilities=_capabilities(change_annotations),
                        workspace_folders=folders,
                        root_uri=root.as_uri() if root else None,
                        initialization_options=options,
                    )
                ),
                30,
            )
        yield editor
        if initialize:
            await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            # The test failed before a clean shutdown: do not leave the process behind.
            server.kill()
        await asyncio.wait_for(client.stop(), 30)


@pytest.fixture
async def editor(workspace: Path) -> AsyncIterator[EditorClient]:
    """An initialized session on `workspace` with no model configured."""
    async with start_editor(workspace) as ed:
        yield ed


@pytest.fixture(scope="module")
def model_env() -> dict[str, str] | None:
    return None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_editor(
    tmp_path_factory: pytest.TempPathFactory, model_env: dict[str, str] | None
) -> AsyncIterator[EditorClient]:
    """One indexed session shared by a module's read-mostly tests (server start is slow);
    a module sets `model_env` to configure a model (none by default)."""
    base = tmp_path_factory.mktemp("shared")
    env = {
        "LLMGENIE_CACHE_DIR": str(base / "cache"),
        "LLMGENIE_DATA_DIR": str(base / "data"),
        "LLMGENIE_CONFIG_FILE": str(base / "config.toml"),
        **(model_env or {}),
    }
    async with start_editor(make_project(base), env=env) as ed:
        await ed.wait_indexed()
        yield ed


def closed_cleanly(root: Path) -> bool:
    """Whether the server recorded a clean close in the workspace's index catalog."""
    import sqlite3

    from llmgenie.config import load_settings
    from llmgenie.index.layout import layout_for

    catalog = layout_for(root.resolve(), load_settings(root)).catalog_path
    conn = sqlite3.connect(catalog)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='clean_close'").fetchone()
    finally:
        conn.close()
    return row is not None and row[0] == "1"
