"""Rules files of the AI tools people already use: each read, scoped rules applied only to
the files they name (Cursor `.mdc` globs, Continue globs, Copilot `applyTo`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmgenie.wrapper.guidance import front_matter, matches, project_guidance


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _write(tmp_path, "AGENTS.md", "Use pytest.")
    _write(tmp_path, "CLAUDE.md", "Prefer small functions.")
    _write(tmp_path, ".clinerules/style.md", "Type every function.")
    _write(tmp_path, ".continue/rules/db.md", "---\nglobs: app/db/**\n---\nUse the session helper.")
    _write(tmp_path, ".continue/rules/any.md", "Log with structlog.")
    _write(tmp_path, ".cursor/rules/python.mdc", "---\nglobs: *.py\n---\nNo bare except.")
    web = '---\nglobs: ["web/**/*.ts", "*.tsx"]\n---\nUse React hooks.'
    _write(tmp_path, ".cursor/rules/web.mdc", web)
    _write(tmp_path, ".cursor/rules/always.mdc", "---\nalwaysApply: true\nglobs:\n---\nBe brief.")
    _write(
        tmp_path,
        ".github/instructions/ts.instructions.md",
        '---\napplyTo: "**/*.ts,**/*.tsx"\n---\nStrict TypeScript.',
    )
    _write(tmp_path, "README.md", "The billing service.")
    return tmp_path


def _sources(items: list[str]) -> set[str]:
    return {item.split("\n", 1)[0].strip("[]") for item in items}


def test_every_tools_rules_apply_to_a_python_file(project: Path) -> None:
    items = project_guidance(project, str.upper, "app/db/models.py")
    assert _sources(items) == {
        "AGENTS.md",
        "CLAUDE.md",
        ".clinerules/style.md",
        ".continue/rules/db.md",
        ".continue/rules/any.md",
        ".cursor/rules/python.mdc",
        ".cursor/rules/always.mdc",
        "README.md",
    }
    db = next(i for i in items if i.startswith("[.continue/rules/db.md]"))
    assert db.endswith("USE THE SESSION HELPER."), "redacted, without the front matter"


def test_rules_scoped_to_other_files_are_left_out(project: Path) -> None:
    ts = _sources(project_guidance(project, str, "web/src/app.ts"))
    assert {".cursor/rules/web.mdc", ".github/instructions/ts.instructions.md"} <= ts
    assert ".cursor/rules/python.mdc" not in ts and ".continue/rules/db.md" not in ts
    unscoped = _sources(project_guidance(project, str, None))  # a run on no file
    assert ".cursor/rules/always.mdc" in unscoped and ".cursor/rules/web.mdc" not in unscoped


def test_front_matter_forms() -> None:
    meta, body = front_matter("---\nglobs:\n  - a/*.py\n  - 'b/**'\nalwaysApply: false\n---\nX")
    assert meta == {"globs": ["a/*.py", "b/**"], "alwaysApply": ["false"]} and body == "X"
    assert front_matter("no front matter")[0] == {}
    assert front_matter("---\nunterminated: yes\n")[0] == {}


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a/b/c.py", True),
        ("*.py", "a/b/c.pyi", False),
        ("src/**/*.ts", "src/x.ts", True),
        ("src/**/*.ts", "src/a/b/x.ts", True),
        ("src/**/*.ts", "lib/src/x.ts", False),
        ("app/db/**", "app/db/models.py", True),
        ("app/*.py", "app/sub/x.py", False),
        ("**", "anything/at/all", True),
    ],
)
def test_rule_globs(pattern: str, path: str, expected: bool) -> None:
    assert matches([pattern], path) is expected
