"""Incremental re-parsing of documents open in the editor.

The editor sends the whole buffer on every change (LSP full sync, versioned). Re-parsing
200 KB from scratch costs ~35 ms; tree-sitter can instead re-use the previous tree if it is
told what changed. We derive that edit ourselves: the common prefix and suffix of the old
and new UTF-8 bytes (found by bisection over slice comparisons, so the work is memcmp in C,
not a Python loop over characters), converted to byte offsets and (row, byte column)
points, applied with `Tree.edit`, then `Parser.parse(new, old_tree)`.

Then only part of the query work is redone. Every query match is kept as a
position-independent record (parser.collect_records). After an edit, the span to redo is
the edit plus tree-sitter's changed ranges (outside them every character keeps its
ancestors, so a match whose pattern root lies outside is unchanged), widened to whole
lines and to the definitions whose leading comments or wrappers reach into it. The old
records whose pattern root touches the span (found by the same range query on the old
tree) are dropped, the others shifted by the edit's byte and line delta, and the matches
of the span in the new tree added; parser.finish turns the set into the ParsedFile.

With syntax errors, tree-sitter's error recovery can build a different tree from a
re-used one than from scratch, so such a buffer is parsed again from scratch (the matches
are still re-queried only around the edit). The result is always exactly what
parse_document gives for the same text: tests/context/test_incremental_parse.py checks
that on random edit sequences of real files, breaking and fixing the syntax.

Public API:
    TextEdit, diff_edit(old: bytes, new: bytes) -> TextEdit | None
    DocumentTrees(max_documents=8, max_bytes=...)
        .parse(path, text, max_chunk_lines) -> ParsedFile   # incremental when it can be
        .forget(path) / .clear() / .paths()
Thread-safe: a document's state is taken out of the cache for the duration of its parse, so
two threads never edit one tree; a racing update of the same document parses from scratch.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

from tree_sitter import Parser, Point, Range, Tree

from llmgenie.context.languages import language_for_path
from llmgenie.context.models import ParsedFile
from llmgenie.context.parser import Record, collect_keys, collect_records, parse_with, record_key

# A kept document costs ~30x its source (tree + records: 5.5 MB for a 178 KB file, measured
# by RSS): keep a few open documents only, at most 4 MB of source (~120 MB) in all.
DEFAULT_MAX_DOCUMENTS = 8
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # sum of the kept sources


@dataclass(frozen=True, slots=True)
class TextEdit:
    """One contiguous replacement, in the terms `Tree.edit` wants (bytes, (row, byte col))."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix: bisection where each step compares only the
    still-unknown window, so the total bytes compared stay under 2 * len."""
    lo, hi = 0, min(len(a), len(b))  # a[:lo] == b[:lo]; the answer is <= hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    la, lb = len(a), len(b)
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _is_continuation(data: bytes, index: int) -> bool:
    return index < len(data) and 0x80 <= data[index] < 0xC0


def _point(data: bytes, offset: int) -> tuple[int, int]:
    """(row, byte column) of a byte offset, rows counted by b"\\n" as tree-sitter does."""
    row = data.count(b"\n", 0, offset)
    column = offset - (data.rfind(b"\n", 0, offset) + 1)
    return row, column


def diff_edit(old: bytes, new: bytes) -> TextEdit | None:
    """The single edit that turns `old` into `new` (None when they are equal). Offsets
    are moved off the middle of a UTF-8 character so both sides cut at character edges."""
    if old == new:
        return None
    start = _common_prefix(old, new)
    while start > 0 and (_is_continuation(old, start) or _is_continuation(new, start)):
        start -= 1
    suffix = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_end, new_end = len(old) - suffix, len(new) - suffix
    while suffix > 0 and (_is_continuation(old, old_end) or _is_continuation(new, new_end)):
        suffix -= 1
        old_end, new_end = old_end + 1, new_end + 1
    return TextEdit(
        start,
        old_end,
        new_end,
        _point(old, start),
        _point(old, old_end),
        _point(new, new_end),
    )


@dataclass(slots=True)
class _State:
    """The last parse of one open document: its bytes, its (unedited) tree and records."""

    language: str
    source: bytes
    tree: Tree
    records: list[Record]


# Above this share of the file, re-query everything (two range queries and the merge
# would cost more than one full query).
_FULL_QUERY_SHARE = 0.5


def _line_span(source: bytes, lo: int, hi: int) -> tuple[int, int]:
    """[lo, hi) widened to whole lines, plus one byte either side: everything outside
    starts on a line whose text before it is unchanged, so its column is too."""
    lo = source.rfind(b"\n", 0, lo) + 1
    newline = source.find(b"\n", hi)
    hi = len(source) if newline < 0 else newline + 1
    return max(0, lo - 1), min(len(source), hi + 1)


def _dirty_span(
    state: _State, source: bytes, edit: TextEdit, ranges: list[Range]
) -> tuple[int, int]:
    """The byte span of the new text whose query matches must be recomputed: the edit,
    tree-sitter's changed ranges (outside them every character keeps its ancestors), and
    the definitions whose leading comments or wrappers touch that span."""
    delta = edit.new_end_byte - edit.old_end_byte
    lo = min([edit.start_byte, *(r.start_byte for r in ranges)])
    hi = max([edit.new_end_byte, *(r.end_byte for r in ranges)])

    def to_new(offset: int) -> int:
        if offset < edit.start_byte:
            return offset
        return max(offset + delta, edit.start_byte)

    size = len(source)
    while True:
        lo, hi = _line_span(source, lo, hi)
        if lo <= 0 and hi >= size:
            return 0, size  # the whole file: nothing left to grow into
        old_lo, old_hi = lo, hi - delta
        grown = False
        for base, _, match in state.records:
            d = match.definition
            if d is None:
                continue
            for a, b in d.context:
                if base + a <= old_hi and base + b >= old_lo:
                    # Clamped to the new text: an offset past its end (a definition at the
                    # very end, a stale one) must not count as growth forever.
                    new_lo = max(0, to_new(base + a))
                    new_hi = min(size, to_new(base + d.node_start) + 1)
                    if new_lo < lo or new_hi > hi:
                        lo, hi = min(lo, new_lo), max(hi, new_hi)
                        grown = True
        if not grown:
            return lo, hi


_OPENERS = (b"(", b"[", b"{")
_CLOSERS = (b")", b"]", b"}")


def _opens_brackets(inserted: bytes) -> bool:
    """Whether an insertion opens more brackets than it closes (typing `(`, say)."""
    if len(inserted) > 4096:
        return False
    opened = sum(inserted.count(c) for c in _OPENERS)
    return opened > 0 and opened > sum(inserted.count(c) for c in _CLOSERS)


class DocumentTrees:
    """Last tree and match records per open document (LRU, bounded), for incremental
    re-parses that re-query only the edited part of the file."""

    def __init__(
        self, max_documents: int = DEFAULT_MAX_DOCUMENTS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._states: OrderedDict[str, _State] = OrderedDict()
        self.stats = {
            "fresh": 0,
            "incremental": 0,
            "ranged": 0,
            "error_reparse": 0,
            "fresh_first": 0,
        }
        """How parses went (observability and tests): fresh (no previous tree),
        incremental (tree re-used), ranged (only the edited span re-queried),
        error_reparse (the re-used tree had syntax errors: parsed again from scratch),
        fresh_first (the edit opened a bracket: parsed from scratch straight away)."""

    def parse(
        self, path: str, text: str, max_chunk_lines: int = 60, language: str | None = None
    ) -> ParsedFile:
        """parse_document(path, text), re-using the document's previous parse if any."""
        lang = language or language_for_path(path)
        with self._lock:
            state = self._states.pop(path, None)
        if state is not None and state.language != lang:
            state = None
        kept: list[_State] = []

        def make_records(parser: Parser, lang: str, source: bytes) -> tuple[list[Record], bool]:
            new_state = self._update(parser, lang, source, state)
            kept.append(new_state)
            return new_state.records, new_state.tree.root_node.has_error

        parsed = parse_with(path, text, max_chunk_lines, lang, make_records)
        if kept:
            self._keep(path, kept[-1])
        return parsed

    def _fresh(self, parser: Parser, lang: str, source: bytes) -> _State:
        tree = parser.parse(source)
        return _State(lang, source, tree, collect_records(lang, tree, source))

    def _update(self, parser: Parser, lang: str, source: bytes, state: _State | None) -> _State:
        if state is None:
            self.stats["fresh"] += 1
            return self._fresh(parser, lang, source)
        edit = diff_edit(state.source, source)
        if edit is None:
            return state
        edited = state.tree.copy()
        edited.edit(
            start_byte=edit.start_byte,
            old_end_byte=edit.old_end_byte,
            new_end_byte=edit.new_end_byte,
            start_point=Point(*edit.start_point),
            old_end_point=Point(*edit.old_end_point),
            new_end_point=Point(*edit.new_end_point),
        )
        if _opens_brackets(source[edit.start_byte : edit.new_end_byte]):
            # An edit that opens a bracket most likely leaves a syntax error, which needs
            # a fresh parse (below): re-using the tree first would double tree-sitter's
            # error recovery (~200 ms on a 5,000-line file for an unclosed bracket). Only
            # the speed depends on this guess. (Also guessing so for every edit of a
            # buffer that already has an error made closing edits pay a fresh parse,
            # for no gain in edit_bench.)
            self.stats["fresh_first"] += 1
            tree = parser.parse(source)
        else:
            tree = parser.parse(source, edited)
            if tree.root_node.has_error:
                # With syntax errors, tree-sitter's recovery can build a different tree
                # from a re-used one than from scratch (seen in about 1 of 300 random
                # edits); the index must not depend on the edit history, so parse again
                # from scratch. The changed ranges still come from the edited old tree.
                self.stats["error_reparse"] += 1
                tree = parser.parse(source)
            else:
                self.stats["incremental"] += 1
        lo, hi = _dirty_span(state, source, edit, list(edited.changed_ranges(tree)))
        if hi - lo > _FULL_QUERY_SHARE * len(source):
            return _State(lang, source, tree, collect_records(lang, tree, source))
        self.stats["ranged"] += 1
        delta = edit.new_end_byte - edit.old_end_byte
        rows = edit.new_end_point[0] - edit.old_end_point[0]
        old_hi = hi - delta
        replaced = Counter(collect_keys(lang, state.tree, (lo, old_hi)))
        records: list[Record] = []
        for record in state.records:
            if replaced:
                key = record_key(record)
                left = replaced.get(key)
                if left:
                    replaced[key] = left - 1
                    continue
            base, base_row, match = record
            records.append((base + delta, base_row + rows, match) if base >= old_hi else record)
        records.extend(collect_records(lang, tree, source, (lo, hi)))
        return _State(lang, source, tree, records)

    def _keep(self, path: str, state: _State) -> None:
        size = len(state.source)
        if size > self.max_bytes or self.max_documents <= 0:
            return
        with self._lock:
            self._states[path] = state
            self._states.move_to_end(path)
            total = sum(len(s.source) for s in self._states.values())
            while len(self._states) > self.max_documents or total > self.max_bytes:
                _, dropped = self._states.popitem(last=False)
                total -= len(dropped.source)

    def forget(self, path: str) -> None:
        """Drop the document's tree (closed or removed)."""
        with self._lock:
            self._states.pop(path, None)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def paths(self) -> list[str]:
        """Documents whose tree is kept, least recently parsed first."""
        with self._lock:
            return list(self._states)
