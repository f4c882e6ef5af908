"""Knowledge retrieval: curated guidance per specialist, and the workspace's own docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.agents.knowledge import KNOWLEDGE_DIR_ENV, KnowledgeBase, knowledge_dir
from tests.agents.conftest import Harness


def test_knowledge_dir_is_found_in_the_checkout() -> None:
    directory = knowledge_dir()
    assert directory is not None
    assert {p.name for p in directory.iterdir() if p.is_dir()} >= {
        "devops",
        "security",
        "performance",
        "documentation",
    }


def test_security_question_finds_the_injection_guidance(harness: Harness) -> None:
    hits = KnowledgeBase(harness.engine).search_curated(
        "SQL injection parameterised query cursor.execute", k=3, topic="security"
    )
    assert hits and hits[0].path == "security/injection.md"
    assert "CWE-89" in hits[0].text
    assert all(h.path.startswith("security/") for h in hits)


def test_each_specialist_topic_answers_its_own_questions(harness: Harness) -> None:
    kb = KnowledgeBase(harness.engine)
    cases = {
        (
            "N+1 queries select_related prefetch_related",
            "performance",
        ): "performance/data-access.md",
        ("Kubernetes readinessProbe livenessProbe", "devops"): "devops/kubernetes.md",
        (
            "Google style docstring Args Returns Raises",
            "documentation",
        ): "documentation/python-docstrings.md",
        ("pickle.loads untrusted deserialization", "security"): "security/web-and-files.md",
    }
    for (query, topic), expected in cases.items():
        hits = kb.search_curated(query, k=3, topic=topic)  # type: ignore[arg-type]
        assert hits and hits[0].path == expected, (query, [h.path for h in hits])


def test_workspace_docs_are_searchable(harness: Harness) -> None:
    hits = KnowledgeBase(harness.engine).search_workspace_docs("parameterised queries decision")
    assert [h.path for h in hits][:1] == ["README.md"]
    assert hits[0].source == "workspace"


def test_knowledge_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "security").mkdir()
    monkeypatch.setenv(KNOWLEDGE_DIR_ENV, str(tmp_path))
    assert knowledge_dir() == tmp_path
