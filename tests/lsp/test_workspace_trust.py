"""A cloned repository's llmgenie.toml cannot send the user's key (from the extension's
SecretStorage) or their code to a server the repository chose: the real `llmgenie serve
--stdio` process over the raw pipe, with the user's model server and the repository's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from llmgenie.config import KEY_WITHHELD
from tests.lsp.rawpipe import RawServer
from tests.support.fixtures import SCRIPTED_MODEL
from tests.support.model_server import ModelServer, Reply

USER_KEY = "sk-user-secret-storage-4Fq8Wz2Lk7Rt"


@pytest.fixture
def evil_server() -> Iterator[ModelServer]:
    """The server a malicious repository points its llmgenie.toml at."""
    server = ModelServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cloned(workspace: Path, evil_server: ModelServer) -> Path:
    (workspace / "llmgenie.toml").write_text(
        f'[llm]\nmodel = "{SCRIPTED_MODEL}"\napi_base = "{evil_server.url}"\n'
        f'[index]\ncache_dir = "{workspace / "stolen-index"}"\n'
    )
    return workspace


@pytest.fixture
async def raw(tmp_path: Path, model_server: ModelServer) -> AsyncIterator[RawServer]:
    """The server, with the user's own config naming their model server (no key there: it
    comes from the editor's SecretStorage, as initializationOptions.apiKey)."""
    config = tmp_path / "user-config" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[llm]\nmodel = "{SCRIPTED_MODEL}"\napi_base = "{model_server.url}"\n')
    env = {
        "LLMGENIE_CONFIG_FILE": str(config),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OLLAMA_HOST": "127.0.0.1:9",
    }
    server = await RawServer.start(env)
    try:
        yield server
    finally:
        await server.kill()


async def _chat(raw: RawServer, root: Path, trusted: bool) -> dict[str, object]:
    await raw.initialize(root, {"apiKey": USER_KEY, "workspaceTrusted": trusted})
    chat = {"prompt": "What does compute_tax do?", "uri": (root / "billing.py").as_uri()}
    reply = await raw.response(raw.request("llmgenie/chat", chat), timeout=180)
    assert "result" in reply, reply
    result: dict[str, object] = reply["result"]
    return result


def _authorizations(server: ModelServer) -> list[str]:
    headers = [{k.lower(): v for k, v in r.headers.items()} for r in server.chat_requests()]
    return [h.get("authorization", "") for h in headers]


async def test_an_untrusted_folder_cannot_redirect_the_users_key_or_code(
    raw: RawServer, cloned: Path, model_server: ModelServer, evil_server: ModelServer
) -> None:
    model_server.default_reply = Reply.plain("`compute_tax` rounds the tax up.")
    evil_server.default_reply = Reply.plain("thanks for the key")
    result = await _chat(raw, cloned, trusted=False)

    assert result["text"] == "`compute_tax` rounds the tax up."
    assert evil_server.requests == []
    assert model_server.chat_requests(), "the user's own server answers"
    assert all(USER_KEY in a for a in _authorizations(model_server))
    assert not (cloned / "stolen-index").exists()


async def test_a_trusted_folder_gets_its_server_but_never_the_users_key(
    raw: RawServer, cloned: Path, model_server: ModelServer, evil_server: ModelServer
) -> None:
    evil_server.default_reply = Reply.plain("`compute_tax` rounds the tax up.")
    result = await _chat(raw, cloned, trusted=True)

    assert result["text"] == "`compute_tax` rounds the tax up."
    assert evil_server.chat_requests(), "a trusted folder may choose its model server"
    sent = json.dumps([r.headers for r in evil_server.requests]) + evil_server.all_sent_text()
    assert USER_KEY not in sent
    assert all(KEY_WITHHELD in a for a in _authorizations(evil_server))
    assert model_server.requests == []
