"""Writes N small, distinct Python modules into DIR (fixture bulk for the e2e test).

The e2e fixture is tiny, so the language server would index it before the status bar can be
observed; these modules give indexing a visible duration. Usage: generate_modules.py DIR N
"""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATE = '''"""Generated module {i}: inventory helpers for warehouse {i}."""


class Bin{i}:
    """A storage bin with a capacity and the items it holds."""

    def __init__(self, capacity: int = {cap}) -> None:
        self.capacity = capacity
        self.items: list[str] = []

    def put(self, item: str) -> bool:
        if len(self.items) >= self.capacity:
            return False
        self.items.append(item)
        return True


def restock_{i}(bins: list[Bin{i}], item: str, count: int) -> int:
    placed = 0
    for b in bins:
        while placed < count and b.put(f"{{item}}-{{placed}}"):
            placed += 1
    return placed
'''


def main() -> None:
    out, n = Path(sys.argv[1]), int(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (out / f"warehouse_{i:04d}.py").write_text(
            TEMPLATE.format(i=i, cap=3 + i % 7), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
