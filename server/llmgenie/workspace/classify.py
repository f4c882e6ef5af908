"""Cheap path classifications stored with each file (used to weigh retrieval signals)."""

from __future__ import annotations

_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "e2e"})
_TEST_SUFFIXES = ("_test", "_tests", ".test", ".spec", "_spec", "-test", "-spec")


def is_test_path(rel_path: str) -> bool:
    """True for files that look like tests (test dirs, test_*.py, *_test.go, *.spec.ts...)."""
    parts = rel_path.lower().split("/")
    if any(part in _TEST_DIRS for part in parts[:-1]):
        return True
    name = parts[-1]
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    full_stem = name.rsplit(".", 1)[0]
    return (
        stem.startswith(("test_", "tests_"))
        or stem in ("test", "tests", "conftest")
        or full_stem.endswith(_TEST_SUFFIXES)
        or stem.endswith(_TEST_SUFFIXES)
    )
