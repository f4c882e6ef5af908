"""Suite-wide fixtures: every test gets a private index cache and user config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins: list[str] = []
if (Path(__file__).parent / "support" / "fixtures.py").exists():
    pytest_plugins.append("tests.support.fixtures")


@pytest.fixture(autouse=True, scope="session")
def _shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Build the ONNX embedding model once per session, not once per test's cache dir."""
    if os.environ.get("LLMGENIE_MODEL_CACHE_DIR"):
        yield
        return
    os.environ["LLMGENIE_MODEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    os.environ.pop("LLMGENIE_MODEL_CACHE_DIR", None)


@pytest.fixture(autouse=True)
def _isolated_llmgenie_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests away from the real user cache/data/config; children inherit the env."""
    base = tmp_path_factory.mktemp("llmgenie-home")
    keys = ("LLMGENIE_CACHE_DIR", "LLMGENIE_DATA_DIR", "LLMGENIE_CONFIG_FILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["LLMGENIE_CACHE_DIR"] = str(base / "cache")
    os.environ["LLMGENIE_DATA_DIR"] = str(base / "data")
    os.environ["LLMGENIE_CONFIG_FILE"] = str(base / "config.toml")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
