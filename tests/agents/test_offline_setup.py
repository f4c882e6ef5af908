"""CrewAI must be imported only after its telemetry/tracing opt-outs are set."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import llmgenie.agents
from llmgenie.agents.crewai_setup import load_crewai

AGENTS_DIR = Path(llmgenie.agents.__file__).parent


def _imports_crewai(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "crewai"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "crewai" for alias in node.names)
    return False


def _calls_load_crewai(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", "") == "load_crewai"
        for n in ast.walk(node)
    )


def test_every_crewai_import_comes_after_load_crewai() -> None:
    offenders: list[str] = []
    for path in sorted(AGENTS_DIR.glob("*.py")):
        if path.name == "crewai_setup.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loaded = False
        for statement in tree.body:  # module level: load_crewai() must run first
            loaded = loaded or _calls_load_crewai(statement)
            if _imports_crewai(statement) and not loaded:
                offenders.append(f"{path.name}:{statement.lineno}")
        for func in ast.walk(tree):  # inside functions: no direct imports at all
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                offenders += [
                    f"{path.name}:{n.lineno}" for n in ast.walk(func) if _imports_crewai(n)
                ]
    assert offenders == []


def test_load_crewai_sets_the_opt_outs() -> None:
    load_crewai()
    assert os.environ["CREWAI_DISABLE_TELEMETRY"] == "true"
    assert os.environ["OTEL_SDK_DISABLED"] == "true"
    assert os.environ["CREWAI_TRACING_ENABLED"] == "false"
