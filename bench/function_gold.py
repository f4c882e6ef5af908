"""Function-level gold for localization: what the reference patch edits, as line spans.

Why: a file-level hit says the right file was found; an agent still has to find the place
in it. The engine returns chunks (line ranges); this module turns SWE-bench's gold patch
into the line spans of the base commit that a returned chunk must overlap to count.

Definitions (stated in the benchmark output and in docs/benchmarks.md):

- **Changed lines** of a file: the base-commit (old side) lines the patch deletes or
  replaces, plus, for a pure insertion between old lines a and a+1, its non-blank
  neighbours among a and a+1; when both are blank (a new block between two others), the
  nearest non-blank line on each side. New files have no base lines and contribute nothing.
- **Gold spans**: for each changed line, the innermost function or method (``def`` /
  ``async def``, decorators included, found with Python's ``ast`` at the base commit,
  independent of the engine's parser) that contains it; a changed line outside every
  function (imports, module constants, class attributes) is its own one-line span. If the
  file does not parse, every changed line is its own span.
- **Chunk hit (function level)**: a returned chunk whose path is the gold file and whose
  line range overlaps a gold span. **Line level** (stricter): it overlaps a changed line.
  An instance's chunk rank is the 1-based position of its first hit chunk.

Public API:
    parse_patch(diff) -> list[FilePatch]
    function_spans(source) -> list[Span] | None
    gold_spans(patch, source) -> list[Span]
    first_hit(chunks, gold) -> int | None
    assign_splits(items) -> dict[instance_id, "train" | "heldout"]
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

SPLITS = ("train", "heldout")

CHUNK_HIT_DEFINITION = (
    "changed lines = base-commit lines the gold patch deletes or replaces, plus the "
    "non-blank neighbours of a pure insertion (the nearest non-blank line on each side when "
    "both are blank); gold spans = the innermost def/async def (decorators "
    "included, Python ast at the base commit) around each changed line, or the line itself "
    "when it is outside every function; a chunk hits (function level) when its file is a "
    "gold file and its line range overlaps a gold span, (line level) when it overlaps a "
    "changed line; chunk top-k = some hit among the first k chunks returned"
)

SPLIT_DEFINITION = (
    "per repository, instances ordered by sha256(instance_id); even positions are 'train', "
    "odd 'heldout' (50/50 within every repository, stable across runs and machines)"
)


@dataclass(frozen=True, slots=True)
class Span:
    """Lines start..end (1-based, inclusive) of `path`; `symbol` names a function span."""

    path: str
    start: int
    end: int
    symbol: str | None = None

    def overlaps(self, start: int, end: int) -> bool:
        return start <= self.end and end >= self.start


@dataclass(slots=True)
class FilePatch:
    """What a patch does to one base-commit file (old-side line numbers)."""

    path: str
    new_file: bool = False
    deleted: set[int] = field(default_factory=set)
    insert_after: set[int] = field(default_factory=set)  # a: insertion between a and a+1

    def changed_lines(self, source_lines: Sequence[str]) -> list[int]:
        """Deleted/replaced lines and the neighbours of each pure insertion (see module doc).

        A blank neighbour says nothing about where the edit is (the line after the end of
        a function is usually blank), so it is skipped; only when both are blank does the
        search widen to the nearest non-blank line on each side.
        """
        n = len(source_lines)

        def blank(line: int) -> bool:
            return not source_lines[line - 1].strip()

        lines = {line for line in self.deleted if 1 <= line <= n}
        for a in self.insert_after:
            near = [line for line in (a, a + 1) if 1 <= line <= n and not blank(line)]
            if not near:
                above = next((i for i in range(a, 0, -1) if not blank(i)), None)
                below = next((i for i in range(a + 1, n + 1) if not blank(i)), None)
                near = [line for line in (above, below) if line is not None]
            lines.update(near)
        return sorted(lines)


def parse_patch(diff: str) -> list[FilePatch]:
    """Parse a git unified diff into per-file old-side edits (files in patch order).

    Hunk bodies are read by their line counts, so a deleted line that itself starts with
    "--" is not mistaken for a file header.
    """
    files: list[FilePatch] = []
    current: FilePatch | None = None
    old = old_left = new_left = 0
    prev = " "
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:
            if current is None:
                break
            tag = line[:1] if line else " "
            if tag == "\\":
                continue  # "\ No newline at end of file"
            if tag == "-":
                current.deleted.add(old)
                old, old_left = old + 1, old_left - 1
            elif tag == "+":
                if prev == " ":  # a pure insertion, not the new side of a replacement
                    current.insert_after.add(old - 1)
                new_left -= 1
            else:
                old, old_left, new_left = old + 1, old_left - 1, new_left - 1
                tag = " "
            prev = tag
            continue
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("--- "):
            src = line[4:].strip()
            current = FilePatch(path=src[2:] if src.startswith("a/") else src)
            current.new_file = src == "/dev/null"
        elif line.startswith("+++ ") and current is not None:
            if current.new_file:
                dst = line[4:].strip()
                current.path = dst[2:] if dst.startswith("b/") else dst
            files.append(current)
        elif (match := _HUNK_RE.match(line)) and current is not None:
            old = int(match.group(1))
            old_left = int(match.group(2) or "1")
            new_left = int(match.group(4) or "1")
            if old_left == 0:
                old += 1  # "-s,0": the insertion follows line s
            prev = " "
    return files


def function_spans(source: str, path: str = "") -> list[Span] | None:
    """Every def/async def of `source` with its qualified name; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans: list[Span] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                name = f"{prefix}{child.name}"
                spans.append(Span(path, start, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _innermost(spans: Sequence[Span], line: int) -> Span | None:
    best: Span | None = None
    for span in spans:
        if span.start <= line <= span.end and (
            best is None or span.end - span.start < best.end - best.start
        ):
            best = span
    return best


def gold_spans(patch: FilePatch, source: str) -> tuple[list[Span], list[Span]]:
    """(function-level gold spans, changed-line spans) of one patched base-commit file."""
    if patch.new_file:
        return [], []
    lines = patch.changed_lines(source.split("\n"))
    changed = [Span(patch.path, line, line) for line in lines]
    functions = function_spans(source, patch.path) or []
    gold: dict[tuple[int, int], Span] = {}
    for line in lines:
        span = _innermost(functions, line) or Span(patch.path, line, line)
        gold.setdefault((span.start, span.end), span)
    return sorted(gold.values(), key=lambda s: s.start), changed


def is_hit(path: str, start: int, end: int, gold: Iterable[Span]) -> bool:
    """Does the chunk path:start-end overlap any gold span of the same file?"""
    return any(span.path == path and span.overlaps(start, end) for span in gold)


def first_hit(chunks: Sequence[tuple[str, int, int]], gold: Sequence[Span]) -> int | None:
    """1-based rank of the first chunk (path, start, end) that hits `gold`; None if none."""
    for position, (path, start, end) in enumerate(chunks, start=1):
        if is_hit(path, start, end, gold):
            return position
    return None


def assign_splits(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(instance_id, repo) pairs -> 'train' | 'heldout', 50/50 within each repository.

    Why per repository: the repositories are very unequal (one has over a third of the
    instances), so a split by repository would make the two halves different tasks; an
    instance-level split stratified by repository keeps both halves alike while weights
    chosen on one half are still judged on instances they never saw. The order inside a
    repository is by sha256 of the id, so it does not depend on file order or a seed.
    """
    by_repo: dict[str, list[str]] = {}
    for iid, repo in items:
        by_repo.setdefault(repo, []).append(iid)
    out: dict[str, str] = {}
    for ids in by_repo.values():
        ordered = sorted(set(ids), key=lambda i: (hashlib.sha256(i.encode()).hexdigest(), i))
        for position, iid in enumerate(ordered):
            out[iid] = SPLITS[position % 2]
    return out
