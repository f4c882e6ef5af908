"""Project guidance and workspace traits for context analysis.

Guidance is what the project tells contributors (README, docs/decisions, CONTRIBUTING) and
what it tells AI tools (Cursor's `.cursorrules` and `.cursor/rules/*.mdc`, AGENTS.md,
Copilot instructions). Traits are cheap facts about the workspace (has a Dockerfile, CI,
Kubernetes manifests...) that steer which crews and advice make sense.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

MAX_GUIDANCE_CHARS = 2_000
MAX_GUIDANCE_ITEMS = 12
_TRAIT_SCAN_DEPTH = 3
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", "target"}
)

_GUIDANCE_FILES = (
    ".cursorrules",
    "AGENTS.md",
    ".github/copilot-instructions.md",
    "CONTRIBUTING.md",
    "README.md",
    "README.rst",
    "README",
)
_GUIDANCE_GLOBS = (".cursor/rules/*.mdc", "docs/decisions/*.md", "docs/adr/*.md")


def _read(path: Path, limit: int = MAX_GUIDANCE_CHARS) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            text = fh.read(limit + 1)
    except OSError:
        return ""
    return text if len(text) <= limit else text[:limit] + "\n…(truncated)"


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (OSError, ValueError):
        return False
    return True


def project_guidance(root: Path, redact: Callable[[str], str]) -> list[str]:
    """Guidance texts, each prefixed with its source path; redacted and size-capped."""
    root = root.resolve()
    candidates: list[Path] = [root / name for name in _GUIDANCE_FILES]
    for pattern in _GUIDANCE_GLOBS:
        candidates.extend(sorted(root.glob(pattern)))
    out: list[str] = []
    for path in candidates:
        if len(out) >= MAX_GUIDANCE_ITEMS:
            break
        if not path.is_file() or not _inside(root, path):
            continue
        text = _read(path).strip()
        if text:
            rel = path.relative_to(root).as_posix()
            out.append(f"[{rel}]\n{redact(text)}")
    return out


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
    """Cheap facts about the workspace layout (a shallow scan, a few ms)."""
    traits = dict.fromkeys(
        (
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
        ),
        False,
    )
    root = root.resolve()
    traits["has_cursor_rules"] = (root / ".cursorrules").is_file() or any(
        (root / ".cursor" / "rules").glob("*.mdc")
    )
    for rel, _dirnames, filenames in _walk(root):
        lowered = {f.lower() for f in filenames}
        if any(
            f == "dockerfile" or f.startswith("dockerfile.") or f.endswith(".dockerfile")
            for f in lowered
        ):
            traits["has_dockerfile"] = True
        if lowered & {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}:
            traits["has_compose"] = True
        if (rel in {".github/workflows", ".circleci"} and filenames) or lowered & {
            ".gitlab-ci.yml",
            "jenkinsfile",
            "azure-pipelines.yml",
            ".travis.yml",
        }:
            traits["has_ci"] = True
        if "chart.yaml" in lowered:
            traits["has_helm"] = traits["has_k8s"] = True
        if lowered & {"kustomization.yaml", "kustomization.yml"} or rel.split("/")[-1] in {
            "k8s",
            "kubernetes",
            "manifests",
        }:
            traits["has_k8s"] = True
        if any(f.endswith(".tf") for f in lowered):
            traits["has_terraform"] = True
        if rel.split("/")[-1] in {"tests", "test", "__tests__", "spec"} or any(
            f.startswith("test_") or f.endswith((".test.ts", ".test.js", ".spec.ts", "_test.go"))
            for f in lowered
        ):
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
