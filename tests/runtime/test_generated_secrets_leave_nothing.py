"""Generated secrets in files of every format: nothing secret reaches the scripted model
(through the file, related chunks, repo map or a tool result) or the embedding server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.app.folders import Folder, FolderRegistry
from llmgenie.app.remote import ToolAnswers, analyzed_for_delegation
from llmgenie.config import Settings
from llmgenie.contracts import ids
from llmgenie.contracts.runs import RunRequest, RunStatus
from llmgenie.engine import WorkspaceEngine
from llmgenie.index.embeddings.litellm_provider import LiteLLMEmbeddingProvider
from llmgenie.runs.service import RunService
from tests.embeddings.embedding_server import embedding_server
from tests.runtime.conftest import APP_PY, llm_settings, streaming_executor
from tests.runtime.test_redaction_property import FORMATS, SECRET_FILES, Secrets
from tests.support.model_server import ModelServer, Reply

SEEDS = (1, 2, 3)


def _write_workspace(root: Path, secrets: Secrets) -> list[str]:
    files = [name for name, _ in FORMATS.values()]
    for name, template in FORMATS.values():
        (root / name).write_text(template(secrets))
    for name in SECRET_FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"PASSWORD={secrets.word}\ntoken: {secrets.token}\n")
        files.append(name)
    (root / "app.py").write_text(APP_PY)
    return files


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def generated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Secrets]]:
    root = tmp_path / "repo"
    root.mkdir()
    secrets = Secrets.from_seed(request.param)
    _write_workspace(root, secrets)
    yield root, secrets


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _leaks(text: str, secrets: Secrets) -> list[str]:
    return [v for v in secrets.values() if v in text]


def test_runs_on_every_generated_file_send_no_secret(
    model_server: ModelServer, generated: tuple[Path, Secrets]
) -> None:
    root, secrets = generated
    model_server.default_reply = Reply.plain("looks fine")
    engine = WorkspaceEngine.open(root)
    engine.index()
    service = RunService(llm_settings(model_server), engine, executor=streaming_executor)
    try:
        paths = [name for name, _ in FORMATS.values()] + list(SECRET_FILES) + [None]
        for path in paths:  # None: no file open, only the repo map and search hits
            record = service.start(
                RunRequest(
                    crew="security", workspace=str(root), path=path, prompt="any secrets here?"
                )
            ).wait(60)
            assert record.status is RunStatus.SUCCEEDED, (path, record.error)
    finally:
        service.close()
        engine.close()
    sent = model_server.all_sent_text()
    assert sent
    assert _leaks(sent, secrets) == []


def test_team_server_bundle_and_callback_answers_hold_no_secret(
    generated: tuple[Path, Secrets],
) -> None:
    root, secrets = generated
    folder = Folder(root=root, settings=Settings())
    registry = FolderRegistry()
    registry.add(folder)
    answers = ToolAnswers(registry, lambda: folder.settings)
    sent: list[str] = []
    try:
        folder.open_engine().index()
        for path in [name for name, _ in FORMATS.values()] + list(SECRET_FILES):
            request = RunRequest(crew="security", workspace=str(root), path=path, prompt="?")
            sent.append(
                analyzed_for_delegation(registry, folder.settings, request).model_dump_json()
            )
            sent.append(_dump(answers.answer(request, ids.CALLBACK_READ_FILE, {"path": path})))
        request = RunRequest(crew="security", workspace=str(root), prompt="?")
        for query in ("password", "token", "auth", secrets.user):
            found = answers.answer(request, ids.CALLBACK_SEARCH, {"query": query, "k": 25})
            sent.append(_dump(found))
        sent.append(_dump(answers.answer(request, ids.CALLBACK_REPO_MAP, {"tokens": 8192})))
    finally:
        folder.close_engine()
    everything = "\n".join(sent)
    assert "«REDACTED:secret_file»" in everything
    assert _leaks(everything, secrets) == []


def test_embedding_chunks_are_redacted_before_they_leave(
    generated: tuple[Path, Secrets],
) -> None:
    root, secrets = generated
    texts = [(root / name).read_text() for name, _ in FORMATS.values()]
    with embedding_server() as server:
        provider = LiteLLMEmbeddingProvider("openai/emb", api_base=f"{server.url}/v1")
        vectors = provider.embed(texts)
        sent = json.dumps([r["body"] for r in server.requests], ensure_ascii=False)
    assert vectors.shape[0] == len(texts)
    assert "«REDACTED:" in sent
    assert _leaks(sent, secrets) == []


def test_embedding_provider_imports_litellm_offline() -> None:
    """Without the offline setup litellm fetches its price map from the internet on import."""
    code = (
        "import os, sys\n"
        "from llmgenie.index.embeddings.litellm_provider import LiteLLMEmbeddingProvider\n"
        "p = LiteLLMEmbeddingProvider('openai/emb', api_base=sys.argv[1] + '/v1')\n"
        "p.embed(['hello'])\n"
        "print(os.environ.get('LITELLM_LOCAL_MODEL_COST_MAP'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    with embedding_server() as server:
        out = subprocess.run(
            [sys.executable, "-c", code, server.url],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"
    assert "cost map" not in out.stderr
