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
from dataclasses import dataclass
from functools import cache

from tree_sitter import Node, Parser, Query, QueryCursor

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
    lang = language or language_for_path(path)
    lines = _split_lines(text)
    parser = get_ts_parser(lang) if lang else None
    spec = SPECS.get(lang) if lang else None
    if lang is None or parser is None or spec is None:
        kind = _CHUNK_KIND_BY_LANG.get(lang or "", "text")
        return ParsedFile(path, lang, chunks=window_chunks(path, lines, max_chunk_lines, kind))
    try:
        return _parse_tree(path, lang, spec, parser, text, lines, max_chunk_lines)
    except Exception as exc:  # a grammar or extraction bug must not stop the indexer
        _log.warning("parse_failed", path=path, language=lang, error=repr(exc))
        kind = _CHUNK_KIND_BY_LANG.get(lang, "code")
        chunks = window_chunks(path, lines, max_chunk_lines, kind)
        return ParsedFile(path, lang, chunks=chunks, has_errors=True)


def _parse_tree(
    path: str,
    lang: str,
    spec: LanguageSpec,
    parser: Parser,
    text: str,
    lines: list[str],
    max_chunk_lines: int,
) -> ParsedFile:
    source = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(source)
    root = tree.root_node
    compiled = _query(lang)
    found: list[_Found] = []
    references: list[Reference] = []
    imports: list[str] = []
    if compiled is not None:
        collector = _ReferenceCollector(compiled.ref_kinds)
        def_patterns = compiled.def_patterns
        for pattern, captures in QueryCursor(compiled.query).matches(root):
            if pattern < def_patterns:
                item = _found(lang, spec, captures)
                if item is not None:
                    found.append(item)
            else:
                collector.add(captures)
        references, imports = collector.result(path)
    if lang == "dockerfile":
        _extend_stages(found, len(lines))
    symbols, chunk_starts = _definitions(path, spec, source, found)
    chunks = _chunks(path, lang, lines, symbols, chunk_starts, max_chunk_lines, spec.qualifier)
    return ParsedFile(
        path=path,
        language=lang,
        symbols=symbols,
        references=references,
        imports=imports,
        chunks=chunks,
        has_errors=root.has_error,
    )


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
    """A definition match before qualification: outer range, name, kind, explicit owner."""

    start_byte: int
    end_byte: int
    start_row: int
    end_row: int
    node: Node
    kind: str
    name: str
    owner: str | None


def _found(lang: str, spec: LanguageSpec, captures: dict[str, list[Node]]) -> _Found | None:
    kind = ""
    node: Node | None = None
    for capture, nodes in captures.items():
        if capture.startswith("def."):
            kind, node = capture[4:], nodes[0]
            break
    names = captures.get("name")
    if node is None:
        return None
    if not names:
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
    # Go `type (A struct{}; B int)` groups several specs: only a lone spec takes it over.
    if (
        parent is not None
        and parent.type in spec.wrappers
        and (lang != "go" or parent.named_child_count == 1)
    ):
        outer = parent
    return _Found(
        outer.start_byte, outer.end_byte, outer.start_point[0], _end_row(outer),
        node, kind, name, owner,
    )  # fmt: skip


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
    path: str, spec: LanguageSpec, source: bytes, found: list[_Found]
) -> tuple[list[Symbol], list[int]]:
    """Qualify names by nesting (a stack of open definitions) and build Symbols.

    Also returns, per symbol, the 1-based line its chunk should start at (its leading
    comment block, if any, so a doc comment travels with the code it documents).
    """
    found.sort(key=lambda item: (item.start_byte, -item.end_byte))
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
        node = item.node
        comments, comment_row = _comment_block(node) if spec.doc_style != "none" else ([], -1)
        if spec.doc_style == "python":
            docstring = _python_docstring(node)
        else:
            docstring = _clean_comments(comments)
        start_row = item.start_row
        chunk_starts.append((comment_row if 0 <= comment_row < start_row else start_row) + 1)
        symbols.append(
            Symbol(
                name=item.name,
                qualified_name=qualified,
                kind=kind,
                path=path,
                start_line=item.start_row + 1,
                end_line=max(item.end_row, item.start_row) + 1,
                start_col=node.start_point[1],
                signature=_signature(spec, source, node),
                docstring=docstring,
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
    first = body.named_children[0]
    if first.type == "expression_statement" and first.named_child_count:
        first = first.named_children[0]
    if first.type != "string":
        return ""
    parts = [c for c in first.named_children if c.type == "string_content"]
    raw = "".join(_node_text(part) for part in parts)
    return inspect.cleandoc(raw)[:MAX_DOCSTRING_CHARS]


_COMMENT_WRAPPERS = frozenset(
    {"export_statement", "decorated_definition", "template_declaration", "type_declaration",
     "const_declaration", "var_declaration"}
)  # fmt: skip
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "attribute_item"})


def _comment_block(node: Node) -> tuple[list[str], int]:
    """Comments directly above a definition (JSDoc, Rust ///...), and the row they start."""
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
    return comments, expected_row if comments else -1


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


class _ReferenceCollector:
    """Accumulates reference captures: one entry per (name, kind), first use + count.

    Matches arrive in (nearly) document order: the first node seen for a key is kept.
    """

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        self.imports: dict[str, None] = {}
        self.first: dict[tuple[bytes, str], Node] = {}
        self.counts: dict[tuple[bytes, str], int] = {}
        self.specific: set[int] = set()  # start bytes captured as call/type/import
        self.generic: list[Node] = []  # `@ref.ref` nodes, resolved after the specific ones

    def add(self, captures: dict[str, list[Node]]) -> None:
        kinds = self.kinds
        for capture, nodes in captures.items():
            kind = kinds.get(capture)
            if kind is None:
                continue
            if kind is _IMPORT:
                for node in nodes:
                    module = _node_text(node).strip().strip("\"'`<>")
                    if module:
                        self.imports[module] = None
            elif kind == "ref":
                self.generic.extend(nodes)
            else:
                counts = self.counts
                first = self.first
                specific = self.specific
                for node in nodes:  # hot loop: _count inlined
                    specific.add(node.start_byte)
                    key = (node.text or b"", kind)
                    count = counts.get(key)
                    if count is None:
                        counts[key] = 1
                        first[key] = node
                    else:
                        counts[key] = count + 1

    def _count(self, node: Node, kind: str) -> None:
        key = (node.text or b"", kind)
        count = self.counts.get(key)
        if count is None:
            self.counts[key] = 1
            self.first[key] = node
        else:
            self.counts[key] = count + 1

    def result(self, path: str) -> tuple[list[Reference], list[str]]:
        specific = self.specific
        for node in self.generic:
            if node.start_byte not in specific:
                self._count(node, "ref")
        references: list[Reference] = []
        for key, node in self.first.items():
            raw, kind = key
            if not raw:
                continue
            row, col = node.start_point
            name = raw.decode("utf-8", errors="replace")
            references.append(Reference(name, path, row + 1, col, kind, self.counts[key]))
        references.sort(key=lambda ref: (ref.line, ref.col, ref.name))
        return references, list(self.imports)
