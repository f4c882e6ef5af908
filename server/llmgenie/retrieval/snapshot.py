"""An in-memory view of the file table for path matching and result assembly.

Rebuilt only when the catalog's set of files changes (the engine tracks a generation).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field


@dataclass(slots=True)
class FileRow:
    file_id: int
    path: str
    is_test: bool
    language: str | None
    lines: int


@dataclass(slots=True)
class FilesSnapshot:
    """id -> file, path -> id, basename -> ids, dotted module name -> id, stem -> ids,
    id -> module name."""

    by_id: dict[int, FileRow] = field(default_factory=dict)
    by_path: dict[str, int] = field(default_factory=dict)
    by_basename: dict[str, list[int]] = field(default_factory=dict)
    by_module: dict[str, int] = field(default_factory=dict)
    by_stem: dict[str, list[int]] = field(default_factory=dict)
    modules: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> FilesSnapshot:
        snap = cls()
        for fid, path, is_test, language, lines in conn.execute(
            "SELECT id, path, is_test, language, lines FROM files"
        ):
            row = FileRow(int(fid), str(path), bool(is_test), language, int(lines))
            snap.by_id[row.file_id] = row
            snap.by_path[row.path] = row.file_id
            base = row.path.rsplit("/", 1)[-1]
            snap.by_basename.setdefault(base, []).append(row.file_id)
            stem = base.split(".", 1)[0].lower()
            # Common stems (`utils`, `base`) stay: stem matching weighs them down by count.
            if stem and stem not in ("__init__", "__main__"):
                snap.by_stem.setdefault(stem, []).append(row.file_id)
            module = module_name(row.path)
            if module:
                snap.by_module.setdefault(module, row.file_id)
                snap.modules[row.file_id] = module
        return snap

    def __len__(self) -> int:
        return len(self.by_id)


def module_name(path: str) -> str | None:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg` (Python-style only)."""
    if not path.endswith((".py", ".pyi")):
        return None
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem.replace("/", ".") if stem else None
