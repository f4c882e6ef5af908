"""parse_document: one tree-sitter parse -> symbols, references, imports and chunks.

Public API:
    parse_document(path: str, text: str, max_chunk_lines: int = 60,
                   language: str | None = None) -> ParsedFile

`path` is workspace-relative (posix); the language comes from it unless given. Lines are
1-based inclusive, columns 0-based UTF-8 byte offsets (ASCII code: characters). Never
raises for bad input: files without a grammar get line-window chunks and no symbols, and
syntax errors only set `has_errors` (tree-sitter recovers and we keep what it found).

References are deduplicated per file by (name, kind): the first occurrence is kept and
`count` says how many there were. That keeps the catalog small (a 17 KB file has ~50
distinct called names but hundreds of call sites) while the graph still sees the weights;
exact positions of every use can be recovered from the text when a client asks.

Speed: extraction runs as tree-sitter Query captures (C), Python only touches the nodes
captured, so the cost is dominated by the parse itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from tree_sitter import Node, Parser, Query, QueryCursor, Tree

from llmgenie.context.chunking import build_regions, chunk_lines, window_chunks
from llmgenie.context.languages import get_ts_language, get_ts_parser, language_for_path
from llmgenie.context.models import Chunk, ParsedFile
from llmgenie.context.specs import SPECS, LanguageSpec
from llmgenie.contracts.symbols import Reference, Symbol
from llmgenie.observability.logging import get_logger

_log = get_logger(__name__)

MAX_SIGNATURE_CHARS = 240
MAX_DOCSTRING_CHARS = 1200
# Kinds that get their own chunk; others (variables, fields, keys) stay inside glue chunks.
CHUNK_KINDS = frozenset(
    {
        "class", "function", "method", "struct", "interface", "enum", "trait", "impl",
        "module", "namespace", "section", "resource", "block", "stage", "table", "record",
        "type", "macro", "union", "object", "key",
    }
)  # fmt: skip
# Kinds whose children are named after them (`Class.method`, `outer.inner`, `H1 > H2`).
QUALIFYING_KINDS = frozenset(
    {"class", "function", "method", "struct", "interface", "enum", "trait", "impl", "module",
     "namespace", "object", "record", "union", "section", "key", "table", "stage", "resource",
     "block"}
)  # fmt: skip
# Kinds whose nested functions are methods.
CONTAINER_KINDS = frozenset(
    {"class", "struct", "interface", "trait", "impl", "enum", "object", "record", "union"}
)  # fmt: skip
_CHUNK_KIND_BY_LANG = {
    "markdown": "doc",
    "yaml": "config",
    "json": "config",
    "toml": "config",
    "hcl": "config",
    "dockerfile": "config",
}


_IMPORT = "import"


@dataclass(frozen=True, slots=True)
class _CompiledQuery:
    """One query for definitions and references (one tree walk instead of two).

    Patterns from `definitions` come first, so `pattern_index < def_patterns` tells a
    definition match from a reference match without looking at capture names.
    """

    query: Query
    def_patterns: int
    ref_kinds: dict[str, str]  # capture name -> reference kind, or _IMPORT


@cache
def _query(lang: str) -> _CompiledQuery | None:
    spec = SPECS.get(lang)
    language = get_ts_language(lang)
    if spec is None or language is None:
        return None
    source = spec.definitions + "\n" + spec.references
    if not source.strip():
        return None
    query = Query(language, source)
    def_patterns = Query(language, spec.definitions).pattern_count if spec.definitions else 0
    ref_kinds: dict[str, str] = {}
    for index in range(query.capture_count):
        name = query.capture_name(index)
        if name == "import":
            ref_kinds[name] = _IMPORT
        elif name.startswith("ref."):
            ref_kinds[name] = name[4:]
    return _CompiledQuery(query, def_patterns, ref_kinds)


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def parse_document(
    path: str, text: str, max_chunk_lines: int = 60, language: str | None = None
) -> ParsedFile:
    """Parse `text` as the file `path` and extract everything the index stores."""
    return parse_with(path, text, max_chunk_lines, language)


RecordSource = Callable[[Parser, str, bytes], tuple[list["Record"], bool]]
"""Parses `source` with the given parser and returns its match records and whether the
tree has syntax errors (a fresh parse, or context/incremental.py's re-parse)."""


def fresh_records(parser: Parser, lang: str, source: bytes) -> tuple[list[Record], bool]:
    """A fresh parse's records and error flag."""
    tree = parser.parse(source)
    return collect_records(lang, tree, source), tree.root_node.has_error


def parse_with(
    path: str,
    text: str,
    max_chunk_lines: int = 60,
    language: str | None = None,
    make_records: RecordSource = fresh_records,
) -> ParsedFile:
    """parse_document with the match records made by `make_records`; everything after the
    records is the same code (`finish`), so an incremental re-parse yields the same
    ParsedFile as a fresh parse whenever it yields the same set of records."""
    lang = language or language_for_path(path)
    lines = _split_lines(text)
    parser = get_ts_parser(lang) if lang else None
    spec = SPECS.get(lang) if lang else None
    if lang is None or parser is None or spec is None:
        kind = _CHUNK_KIND_BY_LANG.get(lang or "", "text")
        return ParsedFile(path, lang, chunks=window_chunks(path, lines, max_chunk_lines, kind))
    try:
        source = text.encode("utf-8", errors="surrogatepass")
        records, has_errors = make_records(parser, lang, source)
        return finish(path, lang, records, lines, max_chunk_lines, has_errors)
    except Exception as exc:  # a grammar or extraction bug must not stop the indexer
        _log.warning("parse_failed", path=path, language=lang, error=repr(exc))
        kind = _CHUNK_KIND_BY_LANG.get(lang, "code")
        chunks = window_chunks(path, lines, max_chunk_lines, kind)
        return ParsedFile(path, lang, chunks=chunks, has_errors=True)


# ---------------------------------------------------------------- match records
#
# Each query match becomes a position-independent record: (base_byte, base_row, _Match),
# where every byte and row inside _Match is relative to the base (the lowest byte the
# match's result depends on). An edit elsewhere in the file moves a record by rebuilding
# that 3-tuple, which is what lets context/incremental.py re-query only the edited region
# and keep the other records. `finish` turns any set of records into a ParsedFile, and
# depends on the set only, not on the order the query produced the matches in.

Record = tuple[int, int, "_Match"]
_NO_ROW = -(1 << 40)  # "no leading comment" as a relative row (stays negative when shifted)


class _Def(NamedTuple):
    """A definition match, relative to its record's base. Records are tuples of atoms
    only, so the garbage collector stops tracking them: an open document's thousands of
    records then cost a collection nothing (dataclasses would be rescanned every time)."""

    pattern: int
    start: int  # outer range (the def node, or a wrapper such as decorated_definition)
    end: int
    start_row: int
    end_row: int
    kind: str
    name: str
    owner: str | None
    start_col: int
    signature: str
    docstring: str
    comment_row: int  # first row of the leading comment block, or _NO_ROW
    node_start: int
    name_start: int  # orders definitions sharing one range (`ENV A=1 B=2`) as written
    context: tuple[tuple[int, int], ...]
    """Byte spans outside the def node whose text decides this record (leading comments,
    the sibling before them, wrappers): an edit there changes the record although the
    query match itself is untouched."""


class _Match(NamedTuple):
    """One query match (a NamedTuple: a file has thousands, created on every parse)."""

    key_offset: int  # the first capture's byte, relative to the base
    key: tuple[object, ...]  # (pattern, ((capture, start, end), ...)) relative to key_offset
    definition: _Def | None
    refs: tuple[tuple[str, int, int, int, bytes], ...]  # (kind, byte, row, col, text)
    imports: tuple[tuple[str, int], ...]  # (module, byte)


def match_key(pattern: int, captures: dict[str, list[Node]]) -> tuple[int, tuple[object, ...]]:
    """(first capture byte, relative key) of a match: equal for the same match in two
    versions of a file however far it moved."""
    spans: list[tuple[str, int, int]] = []
    first = -1
    for name, nodes in captures.items():
        for node in nodes:
            start = node.start_byte
            spans.append((name, start, node.end_byte))
            if first < 0 or start < first:
                first = start
    return first, (pattern, tuple((name, s - first, e - first) for name, s, e in spans))


def collect_records(
    lang: str, tree: Tree, source: bytes, byte_range: tuple[int, int] | None = None
) -> list[Record]:
    """Records of the matches of the language's query (those whose pattern root
    intersects `byte_range`, when given)."""
    compiled = _query(lang)
    spec = SPECS[lang]
    if compiled is None:
        return []
    cursor = QueryCursor(compiled.query)
    if byte_range is not None:
        cursor.set_byte_range(*byte_range)
    def_patterns = compiled.def_patterns
    kinds = compiled.ref_kinds
    out: list[Record] = []
    for pattern, captures in cursor.matches(tree.root_node):
        record = (
            _def_record(lang, spec, source, pattern, captures)
            if pattern < def_patterns
            else _ref_record(kinds, pattern, captures)
        )
        if record is not None:
            out.append(record)
    return out


def collect_keys(
    lang: str, tree: Tree, byte_range: tuple[int, int]
) -> list[tuple[int, tuple[object, ...]]]:
    """Just the match keys of collect_records (to find the records an edit replaces)."""
    compiled = _query(lang)
    if compiled is None:
        return []
    cursor = QueryCursor(compiled.query)
    cursor.set_byte_range(*byte_range)
    return [match_key(p, c) for p, c in cursor.matches(tree.root_node)]


def record_key(record: Record) -> tuple[int, tuple[object, ...]]:
    """The match key of a record, in the record's current coordinates."""
    base, _, match = record
    return base + match.key_offset, match.key


def _ref_record(
    kinds: dict[str, str], pattern: int, captures: dict[str, list[Node]]
) -> Record | None:
    if len(captures) == 1:  # the common case: one node captured, no predicate helper
        ((capture, nodes),) = captures.items()
        kind = kinds.get(capture)
        if kind is not None and len(nodes) == 1:
            node = nodes[0]
            start = node.start_byte
            row, col = node.start_point
            fast_key: tuple[object, ...] = (pattern, ((capture, 0, node.end_byte - start),))
            if kind is not _IMPORT:
                ref = ((kind, 0, 0, col, node.text or b""),)
                return start, row, _Match(0, fast_key, None, ref, ())
            module = _node_text(node).strip().strip("\"'`<>")
            if module:
                return start, row, _Match(0, fast_key, None, (), ((module, 0),))
            return None
    refs: list[tuple[str, int, int, int, bytes]] = []
    imports: list[tuple[str, int]] = []
    base = base_row = -1
    for capture, nodes in captures.items():
        kind = kinds.get(capture)
        if kind is None:
            continue
        for node in nodes:
            start = node.start_byte
            if base < 0 or start < base:
                base, base_row = start, node.start_point[0]
            if kind is _IMPORT:
                module = _node_text(node).strip().strip("\"'`<>")
                if module:
                    imports.append((module, start))
            else:
                row, col = node.start_point
                refs.append((kind, start, row, col, node.text or b""))
    if base < 0:
        return None
    first, key = match_key(pattern, captures)
    match = _Match(
        first - base,
        key,
        None,
        tuple((k, b - base, r - base_row, c, t) for k, b, r, c, t in refs),
        tuple((m, b - base) for m, b in imports),
    )
    return base, base_row, match


def _def_record(
    lang: str, spec: LanguageSpec, source: bytes, pattern: int, captures: dict[str, list[Node]]
) -> Record | None:
    """A definition match with everything that needs its node computed now (name, range,
    signature, docstring, leading comments), so the record outlives the tree."""
    kind = ""
    node: Node | None = None
    for capture, nodes in captures.items():
        if capture.startswith("def."):
            kind, node = capture[4:], nodes[0]
            break
    names = captures.get("name")
    if node is None or not names:
        return None
    if lang == "hcl":
        name, kind, owner = _hcl_block_name(node)
    elif lang == "dockerfile" and kind == "stage":
        name, owner = _docker_stage_name(node), None
    else:
        name = " ".join(_node_text(names[0]).split())
        parent_nodes = captures.get("parent")
        owner = _owner_name(_node_text(parent_nodes[0]), name) if parent_nodes else None
    if not name:
        return None
    kind_nodes = captures.get("kind")
    if kind_nodes:
        kind = spec.kind_map.get(kind_nodes[0].type, kind)
    outer = node
    parent = node.parent
    lo, hi = node.start_byte, node.end_byte
    # Go `type (A struct{}; B int)` groups several specs: only a lone spec takes it over.
    if parent is not None and parent.type in spec.wrappers:
        lo, hi = min(lo, parent.start_byte), max(hi, parent.end_byte)
        if lang != "go" or parent.named_child_count == 1:
            outer = parent
    if spec.doc_style != "none":
        comments, comment_row, walked = _comment_block(node)
        lo = min(lo, walked)
    else:
        comments, comment_row = [], -1
    docstring = _python_docstring(node) if spec.doc_style == "python" else _clean_comments(comments)
    start_row = outer.start_point[0]
    end_row = _end_row(outer)
    first, key = match_key(pattern, captures)
    base = min(lo, first)
    base_row = start_row  # any row works as the origin of the relative rows
    context = [(lo - base, node.start_byte - base)]
    if hi > node.end_byte:
        context.append((node.end_byte - base, hi - base))
    definition = _Def(
        pattern,
        outer.start_byte - base,
        outer.end_byte - base,
        start_row - base_row,
        end_row - base_row,
        kind,
        name,
        owner,
        node.start_point[1],
        _signature(spec, source, node),
        docstring,
        comment_row - base_row if comment_row >= 0 else _NO_ROW,
        node.start_byte - base,
        names[0].start_byte - base,
        tuple(context),
    )
    return base, base_row, _Match(first - base, key, definition, (), ())


def finish(
    path: str,
    lang: str,
    records: list[Record],
    lines: list[str],
    max_chunk_lines: int,
    has_errors: bool,
) -> ParsedFile:
    """The ParsedFile of a file whose query matches are `records`."""
    spec = SPECS[lang]
    found: list[_Found] = []
    first: dict[tuple[bytes, str], tuple[int, int, int]] = {}
    counts: dict[tuple[bytes, str], int] = {}
    specific: set[int] = set()  # start bytes captured as call/type/import
    generic: list[tuple[int, int, int, bytes]] = []  # `@ref.ref`, resolved after the others
    modules: dict[str, int] = {}
    for base, base_row, match in records:
        d = match.definition
        if d is not None:
            comment_row = d.comment_row + base_row if d.comment_row != _NO_ROW else -1
            found.append(
                _Found(
                    base + d.start, base + d.end, base_row + d.start_row, base_row + d.end_row,
                    d.kind, d.name, d.owner, d.pattern, d.start_col, d.signature, d.docstring,
                    comment_row,
                    base + d.name_start,
                )
            )  # fmt: skip
            continue
        for kind, rb, rr, col, text in match.refs:
            at = base + rb
            if kind == "ref":
                generic.append((at, base_row + rr, col, text))
                continue
            specific.add(at)
            key = (text, kind)  # _count, inlined: this loop runs once per reference
            seen = first.get(key)
            if seen is None:
                first[key] = (at, base_row + rr, col)
                counts[key] = 1
            else:
                counts[key] += 1
                if at < seen[0]:
                    first[key] = (at, base_row + rr, col)
        for module, rb in match.imports:
            at = base + rb
            if modules.get(module, at) >= at:
                modules[module] = at
    for at, row, col, text in generic:
        if at not in specific:
            _count(first, counts, (text, "ref"), at, row, col)
    references: list[Reference] = []
    for key, (_, row, col) in first.items():
        raw, kind = key
        if raw:
            name = raw.decode("utf-8", errors="replace")
            references.append(Reference(name, path, row + 1, col, kind, counts[key]))
    references.sort(key=lambda ref: (ref.line, ref.col, ref.name))
    imports = sorted(modules, key=lambda m: (modules[m], m))
    if lang == "dockerfile":
        _extend_stages(found, len(lines))
    symbols, chunk_starts = _definitions(path, spec, found)
    chunks = _chunks(path, lang, lines, symbols, chunk_starts, max_chunk_lines, spec.qualifier)
    return ParsedFile(
        path=path,
        language=lang,
        symbols=symbols,
        references=references,
        imports=imports,
        chunks=chunks,
        has_errors=has_errors,
    )


def _count(
    first: dict[tuple[bytes, str], tuple[int, int, int]],
    counts: dict[tuple[bytes, str], int],
    key: tuple[bytes, str],
    at: int,
    row: int,
    col: int,
) -> None:
    """One more use of (name, kind); the earliest position in the file is kept."""
    seen = first.get(key)
    if seen is None:
        first[key] = (at, row, col)
        counts[key] = 1
        return
    counts[key] += 1
    if at < seen[0]:
        first[key] = (at, row, col)


def _chunks(
    path: str,
    lang: str,
    lines: list[str],
    symbols: list[Symbol],
    chunk_starts: list[int],
    max_lines: int,
    qualifier: str,
) -> list[Chunk]:
    """Chunk at symbol boundaries; a symbol's chunk starts at its leading comments."""
    ranges = [
        (start, min(s.end_line, len(lines)), s.qualified_name)
        for s, start in zip(symbols, chunk_starts, strict=True)
        if s.kind in CHUNK_KINDS
    ]
    kind = _CHUNK_KIND_BY_LANG.get(lang, "code")
    regions = build_regions(ranges)
    pack = kind != "code"
    return chunk_lines(path, lines, regions, max_lines, kind, pack=pack, qualifier=qualifier)


def _end_row(node: Node) -> int:
    row, col = node.end_point
    if col == 0 and row > node.start_point[0]:
        return row - 1
    return row


@dataclass(slots=True)
class _Found:
    """A definition in file coordinates, before qualification by nesting."""

    start_byte: int
    end_byte: int
    start_row: int
    end_row: int
    kind: str
    name: str
    owner: str | None
    pattern: int
    start_col: int
    signature: str
    docstring: str
    comment_row: int  # -1: no leading comment block
    name_start: int


def _owner_name(text: str, name: str) -> str:
    """`geo::Shape::draw` -> `geo.Shape` (the owner of `draw`); `*Server` -> `Server`."""
    owner = text.split("(")[0].strip().lstrip("*&")
    if owner.endswith("::" + name):
        owner = owner[: -len(name) - 2]
    return owner.replace("::", ".")


def _hcl_block_name(node: Node) -> tuple[str, str, str | None]:
    """Terraform-style address: resource "t" "n" -> (n, resource, t); module "m" -> m."""
    block_type = ""
    labels: list[str] = []
    for child in node.named_children:
        if child.type == "identifier" and not block_type:
            block_type = _node_text(child)
        elif child.type == "string_lit":
            labels.append(_node_text(child).strip('"'))
        elif child.type == "identifier":
            labels.append(_node_text(child))
        elif child.type in ("block_start", "body"):
            break
    if block_type in ("resource", "data") and len(labels) >= 2:
        owner = labels[0] if block_type == "resource" else f"data.{labels[0]}"
        return labels[1], "resource", owner
    if block_type == "module" and labels:
        return labels[0], "module", "module"
    if block_type == "variable" and labels:
        return labels[0], "variable", "var"
    if labels:
        return labels[-1], "block", block_type
    return block_type, "block", None


def _docker_stage_name(node: Node) -> str:
    alias = node.child_by_field_name("as")
    if alias is not None:
        return _node_text(alias)
    for child in node.named_children:
        if child.type == "image_spec":
            return _node_text(child)
    return "stage"


def _extend_stages(found: list[_Found], line_count: int) -> None:
    """A Dockerfile stage runs from its FROM to the line before the next FROM."""
    stages = sorted((f for f in found if f.kind == "stage"), key=lambda f: f.start_byte)
    if not stages:
        return
    for current, following in zip(stages, [*stages[1:], None], strict=True):
        if following is not None:
            current.end_byte = following.start_byte - 1
            current.end_row = following.start_row - 1
        else:
            current.end_byte = 1 << 62
            current.end_row = max(current.end_row, line_count - 1)


def _definitions(
    path: str, spec: LanguageSpec, found: list[_Found]
) -> tuple[list[Symbol], list[int]]:
    """Qualify names by nesting (a stack of open definitions) and build Symbols.

    Also returns, per symbol, the 1-based line its chunk should start at (its leading
    comment block, if any, so a doc comment travels with the code it documents).
    """
    found.sort(key=lambda item: (item.start_byte, -item.end_byte, item.pattern, item.name_start))
    symbols: list[Symbol] = []
    chunk_starts: list[int] = []
    stack: list[tuple[int, str, str]] = []  # (end_byte, qualified_name, kind) of open defs
    seen: set[tuple[int, str]] = set()
    for item in found:
        if (item.start_byte, item.name) in seen:
            continue
        seen.add((item.start_byte, item.name))
        while stack and item.start_byte >= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1] if stack else None
        parent_kind = stack[-1][2] if stack else ""
        if item.owner:
            parent = f"{parent}{spec.qualifier}{item.owner}" if parent else item.owner
            parent_kind = "class"
        kind = item.kind
        if kind == "function" and parent_kind in CONTAINER_KINDS:
            kind = "method"
        qualified = f"{parent}{spec.qualifier}{item.name}" if parent else item.name
        start_row, comment_row = item.start_row, item.comment_row
        chunk_starts.append((comment_row if 0 <= comment_row < start_row else start_row) + 1)
        symbols.append(
            Symbol(
                name=item.name,
                qualified_name=qualified,
                kind=kind,
                path=path,
                start_line=start_row + 1,
                end_line=max(item.end_row, start_row) + 1,
                start_col=item.start_col,
                signature=item.signature,
                docstring=item.docstring,
                parent=parent,
            )
        )
        if kind in QUALIFYING_KINDS:
            stack.append((item.end_byte, qualified, kind))
    return symbols, chunk_starts


def _node_text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw else ""


def _signature(spec: LanguageSpec, source: bytes, node: Node) -> str:
    """The definition's head: its text up to the body, whitespace collapsed."""
    end = node.end_byte
    for field_name in () if spec.signature_one_line else spec.body_fields:
        body = node.child_by_field_name(field_name)
        if body is not None and body.start_byte > node.start_byte:
            end = body.start_byte
            break
    else:
        newline = source.find(b"\n", node.start_byte, end)
        if newline != -1:
            end = newline
    head = source[node.start_byte : min(end, node.start_byte + MAX_SIGNATURE_CHARS * 2)]
    text = " ".join(head.decode("utf-8", errors="replace").split())
    text = text.rstrip(":{ ")
    return text[:MAX_SIGNATURE_CHARS]


def _python_docstring(node: Node) -> str:
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return ""
    first = body.named_child(0)
    if first is not None and first.type == "expression_statement" and first.named_child_count:
        first = first.named_child(0)
    if first is None or first.type != "string":
        return ""
    parts = [c for c in first.named_children if c.type == "string_content"]
    raw = "".join(_node_text(part) for part in parts)
    return _cleandoc(raw)


@lru_cache(maxsize=2048)
def _cleandoc(raw: str) -> str:
    """inspect.cleandoc, capped; memoised because it is slow in Python (about a third of
    the definitions pass on a docstring-heavy file) and re-parsing an edited document sees
    the same docstrings again."""
    return inspect.cleandoc(raw)[:MAX_DOCSTRING_CHARS]


_COMMENT_WRAPPERS = frozenset(
    {"export_statement", "decorated_definition", "template_declaration", "type_declaration",
     "const_declaration", "var_declaration"}
)  # fmt: skip
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "attribute_item"})


def _comment_block(node: Node) -> tuple[list[str], int, int]:
    """Comments directly above a definition (JSDoc, Rust ///...), the row they start, and
    the lowest byte the walk looked at (the last byte of the sibling that ended it)."""
    comments: list[str] = []
    current = node
    while current.parent is not None and current.parent.type in _COMMENT_WRAPPERS:
        current = current.parent
    expected_row = current.start_point[0]
    sibling = current.prev_named_sibling
    while sibling is not None and sibling.type in _COMMENT_TYPES:
        if _end_row(sibling) + 1 < expected_row:
            break
        if sibling.type != "attribute_item":
            comments.append(_node_text(sibling))
        expected_row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    if sibling is not None:
        walked = sibling.end_byte - 1
    elif current.parent is not None:
        walked = current.parent.start_byte
    else:
        walked = current.start_byte
    return comments, expected_row if comments else -1, min(walked, current.start_byte)


def _clean_comments(comments: list[str]) -> str:
    """Comment text without its markers, innermost-last order restored."""
    if not comments:
        return ""
    cleaned: list[str] = []
    for block in reversed(comments):
        for line in block.splitlines():
            stripped = line.strip()
            for prefix in ("///", "//!", "//", "/**", "/*", "*/", "*", "#"):
                if stripped.startswith(prefix):
                    stripped = stripped[len(prefix) :]
                    break
            if stripped.endswith("*/"):
                stripped = stripped[:-2]
            cleaned.append(stripped.strip())
    return "\n".join(line for line in cleaned if line)[:MAX_DOCSTRING_CHARS]
