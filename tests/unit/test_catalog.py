"""One source of truth for crews, commands, methods and code-action kinds
(llmgenie.contracts.ids): everything else is derived from it, or this fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

from llmgenie.agents.crew_specs import CREWS as CREW_SPECS
from llmgenie.contracts import ids
from llmgenie.contracts.runs import RunRequest
from llmgenie.lsp import fastinit

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "extensions" / "vscode" / "src" / "core" / "generated" / "catalog.ts"


def test_the_extension_catalog_is_generated_from_the_server() -> None:
    assert GENERATED.read_text(encoding="utf-8") == ids.typescript(), (
        "extensions/vscode/src/core/generated/catalog.ts is out of date: run "
        "`python -m llmgenie.contracts.ids > extensions/vscode/src/core/generated/catalog.ts`"
    )


def test_the_generator_is_the_module_entry_point() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "llmgenie.contracts.ids"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert printed == ids.typescript()


def test_every_crew_is_described_once_and_runnable() -> None:
    catalog = [crew.id for crew in ids.CREWS]
    assert catalog == list(ids.CREW_IDS) == list(get_args(ids.CrewName))
    assert len(set(catalog)) == len(catalog)
    runnable = set(CREW_SPECS) | {"chat"}  # chat streams without a CrewAI crew
    assert runnable == set(catalog)
    assert RunRequest.model_fields["crew"].annotation is ids.CrewName


def test_code_action_kinds_cover_every_offered_crew() -> None:
    for crew in ids.CREWS:
        if crew.action_kind is None:
            continue
        parents = [k for k in ids.CODE_ACTION_KINDS if crew.action_kind.startswith(k)]
        assert parents, f"{crew.id}: {crew.action_kind} is under no advertised kind"


def test_the_fast_initialize_advertises_the_same_lists() -> None:
    caps = fastinit.initialize_result({"capabilities": {}})["capabilities"]
    assert caps["executeCommandProvider"]["commands"] == list(ids.COMMANDS)
    assert caps["codeActionProvider"]["codeActionKinds"] == list(ids.CODE_ACTION_KINDS)


def test_no_other_module_spells_a_method_or_command_name() -> None:
    """Names live in contracts/ids.py only (tests and docs may quote them)."""
    names = [*ids.COMMANDS, *ids.REQUESTS, *ids.NOTIFICATIONS]
    offenders = []
    for path in (REPO / "server" / "llmgenie").rglob("*.py"):
        if path.name == "ids.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {n}" for n in names if f'"{n}"' in text]
    for path in (REPO / "extensions" / "vscode" / "src").rglob("*.ts"):
        if "generated" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {n}" for n in names if f"'{n}'" in text]
    assert offenders == []
