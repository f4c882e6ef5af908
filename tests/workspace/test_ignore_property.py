"""Property: discovery keeps exactly the files git itself would see (git ls-files --others)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmgenie.workspace.discovery import discover_files

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

NAMES = ["a", "b", "src", "x.py", "y.txt", "z.md", "build"]
GLOBS = ["*.py", "*", "?.txt", "[ab]", "x*", "*.md", "b*", "[!b]*", "*.p?", "**"]

segment = st.sampled_from(NAMES + GLOBS)


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(segment, min_size=1, max_size=3))
    if draw(st.booleans()) and len(parts) > 1:
        parts.insert(draw(st.integers(0, len(parts) - 1)), "**")
    text = "/".join(parts)
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.booleans()):
        text += "/"
    if draw(st.integers(0, 3)) == 0:
        text = "!" + text
    return text


dir_names = st.sampled_from(["a", "b", "src", "build", "x.py"])
file_names = st.sampled_from(["x.py", "y.txt", "z.md", "a", "b", "c.py", "q.txt"])
file_paths = st.builds(
    lambda dirs, name: "/".join([*dirs, name]),
    st.lists(dir_names, max_size=3),
    file_names,
)

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "XDG_CONFIG_HOME": os.devnull,  # no global excludes file: compare the repo's rules only
}


def _git_visible(root: Path) -> set[str]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
        env=GIT_ENV,
    ).stdout.decode()
    return {p for p in out.split("\0") if p}


@settings(
    max_examples=int(os.environ.get("IGNORE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    files=st.sets(file_paths, min_size=1, max_size=12),
    root_rules=st.lists(patterns(), max_size=5),
    nested_dir=dir_names,
    nested_rules=st.lists(patterns(), max_size=3),
    exclude_rules=st.lists(patterns(), max_size=2),
)
def test_discovery_matches_git(
    files: set[str],
    root_rules: list[str],
    nested_dir: str,
    nested_rules: list[str],
    exclude_rules: list[str],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written: set[str] = set()
        for rel in sorted(files):
            target = root / rel
            # A path cannot be both a file and a directory: keep the first one written.
            if any((root / prefix).is_file() for prefix in _prefixes(rel)) or target.is_dir():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x\n")
            written.add(rel)
        (root / ".gitignore").write_text("\n".join(root_rules) + "\n")
        nested = root / nested_dir
        if not nested.is_file():
            nested.mkdir(exist_ok=True)
            (nested / ".gitignore").write_text("\n".join(nested_rules) + "\n")
        subprocess.run(["git", "init", "-q", str(root)], check=True, env=GIT_ENV)
        (root / ".git" / "info").mkdir(parents=True, exist_ok=True)
        (root / ".git" / "info" / "exclude").write_text("\n".join(exclude_rules) + "\n")
        expected = _git_visible(root)
        found = {f.rel_path for f in discover_files(root, builtin_ignores=False).files}
        assert found == expected, (root_rules, nested_dir, nested_rules, exclude_rules)


def _prefixes(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
