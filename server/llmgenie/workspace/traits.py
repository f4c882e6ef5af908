"""Cheap facts about a workspace's layout (has a Dockerfile, CI, Kubernetes manifests,
tests...): they steer which crews are offered and what advice makes sense. A shallow scan
of at most three directory levels, a few milliseconds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from llmgenie.workspace.classify import is_test_path

_TRAIT_SCAN_DEPTH = 3
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", "target"}
)
_DOCKER_FILES = frozenset({"dockerfile", "containerfile"})
_COMPOSE_FILES = frozenset(
    {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}
)
_CI_FILES = frozenset({".gitlab-ci.yml", "jenkinsfile", "azure-pipelines.yml", ".travis.yml"})
TRAITS = (
    "has_dockerfile",
    "has_compose",
    "has_ci",
    "has_k8s",
    "has_helm",
    "has_terraform",
    "has_tests",
    "has_readme",
    "has_docs",
    "has_cursor_rules",
    "has_python",
    "has_javascript",
)


def _walk(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = [
            d
            for d in dirnames
            if (d not in _SKIP_DIRS and not d.startswith("."))
            or d in {".github", ".circleci", ".gitlab"}
        ]
        if depth >= _TRAIT_SCAN_DEPTH:
            dirnames[:] = []
        rel = Path(dirpath).relative_to(root).as_posix()
        yield ("" if rel == "." else rel), dirnames, filenames


def workspace_traits(root: Path) -> dict[str, bool]:
    """Each of TRAITS for the workspace at `root` (a shallow scan)."""
    traits = dict.fromkeys(TRAITS, False)
    root = root.resolve()
    traits["has_cursor_rules"] = (root / ".cursorrules").is_file() or any(
        (root / ".cursor" / "rules").glob("*.mdc")
    )
    for rel, _dirnames, filenames in _walk(root):
        lowered = {f.lower() for f in filenames}
        leaf = rel.rsplit("/", 1)[-1]
        if any(
            f in _DOCKER_FILES or f.startswith("dockerfile.") or f.endswith(".dockerfile")
            for f in lowered
        ):
            traits["has_dockerfile"] = True
        if lowered & _COMPOSE_FILES:
            traits["has_compose"] = True
        if (rel in {".github/workflows", ".circleci"} and filenames) or lowered & _CI_FILES:
            traits["has_ci"] = True
        if "chart.yaml" in lowered:
            traits["has_helm"] = traits["has_k8s"] = True
        if lowered & {"kustomization.yaml", "kustomization.yml"} or leaf in {
            "k8s",
            "kubernetes",
            "manifests",
        }:
            traits["has_k8s"] = True
        if any(f.endswith(".tf") for f in lowered):
            traits["has_terraform"] = True
        if any(is_test_path(f"{rel}/{f}" if rel else f) for f in lowered):
            traits["has_tests"] = True
        if rel == "" and any(f.startswith("readme") for f in lowered):
            traits["has_readme"] = True
        if rel == "docs":
            traits["has_docs"] = True
        if any(f.endswith(".py") for f in lowered):
            traits["has_python"] = True
        if any(f.endswith((".js", ".ts", ".tsx", ".jsx")) for f in lowered):
            traits["has_javascript"] = True
    return traits
