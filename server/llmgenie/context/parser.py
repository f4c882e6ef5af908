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
from functools import cache

from tree_sitter import Node, Query, QueryCursor

from llmgenie.context.chunking import build_regions, chunk_lines, window_chunks
from llmgenie.context.languages import get_ts_language, get_ts_parser, language_for_path
from llmgenie.context.models import Chunk, ParsedFile, Reference, Symbol
from llmgenie.context.specs import SPECS, LanguageSpec
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
CONTAINER_KINDS = frozenset(
    {"class", "struct", "interface", "trait", "impl", "module", "namespace", "enum", "object",
     "record", "union"}
)  # fmt: skip
_CHUNK_KIND_BY_LANG = {
    "markdown": "doc",
    "yaml": "config",
    "json": "config",
    "toml": "config",
    "hcl": "config",
    "dockerfile": "config",
}


@cache
def _query(lang: str) -> Query | None:
    """Definitions and references in one query: one tree walk instead of two."""
    spec = SPECS.get(lang)
    language = get_ts_language(lang)
    if spec is None or language is None:
        return None
    source = spec.definitions + "\n" + spec.references
    if not source.strip():
        return None
    return Query(language, source)


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


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
    source = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(source)
    root = tree.root_node
    query = _query(lang)
    matches = QueryCursor(query).matches(root) if query is not None else []
    definitions: list[tuple[Node, str, Node]] = []
    ref_captures: dict[str, list[Node]] = {}
    for _, captures in matches:
        def_capture = next((name for name in captures if name.startswith("def.")), None)
        if def_capture is not None:
            names = captures.get("name")
            if names:
                definitions.append((captures[def_capture][0], def_capture[4:], names[0]))
            continue
        for capture, nodes in captures.items():
            bucket = ref_captures.get(capture)
            if bucket is None:
                ref_captures[capture] = list(nodes)
            else:
                bucket.extend(nodes)
    symbols = _definitions(path, lang, spec, source, definitions)
    references, imports = _references(path, ref_captures)
    chunks = _chunks(path, lang, lines, symbols, max_chunk_lines)
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
    path: str, lang: str, lines: list[str], symbols: list[Symbol], max_lines: int
) -> list[Chunk]:
    ranges = [
        (s.start_line, min(s.end_line, len(lines)), s.qualified_name)
        for s in symbols
        if s.kind in CHUNK_KINDS
    ]
    kind = _CHUNK_KIND_BY_LANG.get(lang, "code")
    return chunk_lines(path, lines, build_regions(ranges), max_lines, kind)


def _end_row(node: Node) -> int:
    row, col = node.end_point
    if col == 0 and row > node.start_point[0]:
        return row - 1
    return row


def _definitions(
    path: str,
    lang: str,
    spec: LanguageSpec,
    source: bytes,
    definitions: list[tuple[Node, str, Node]],
) -> list[Symbol]:
    found: list[tuple[int, int, Node, str, str, Node]] = []
    for def_node, kind, name_node in definitions:
        name = _node_text(name_node).strip()
        if not name:
            continue
        outer = _outer_node(lang, def_node)
        found.append((outer.start_byte, -outer.end_byte, def_node, kind, name, outer))
    found.sort(key=lambda item: (item[0], item[1]))
    symbols: list[Symbol] = []
    # Stack of (end_byte, qualified_name, kind) of enclosing definitions.
    stack: list[tuple[int, str, str]] = []
    seen: set[tuple[int, str]] = set()
    for start_byte, neg_end, node, kind, name, outer in found:
        if (start_byte, name) in seen:
            continue
        seen.add((start_byte, name))
        while stack and start_byte >= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1] if stack else None
        parent_kind = stack[-1][2] if stack else ""
        if kind == "function" and parent_kind in CONTAINER_KINDS:
            kind = "method"
        qualified = f"{parent}.{name}" if parent else name
        symbols.append(
            Symbol(
                name=name,
                qualified_name=qualified,
                kind=kind,
                path=path,
                start_line=outer.start_point[0] + 1,
                end_line=_end_row(node) + 1,
                start_col=node.start_point[1],
                signature=_signature(spec, source, node),
                docstring=_docstring(spec, node),
                parent=parent,
            )
        )
        stack.append((-neg_end, qualified, kind))
    return symbols


def _outer_node(lang: str, node: Node) -> Node:
    """The node whose range a definition covers (Python decorators included)."""
    if lang == "python":
        parent = node.parent
        if parent is not None and parent.type == "decorated_definition":
            return parent
    return node


def _node_text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw else ""


def _signature(spec: LanguageSpec, source: bytes, node: Node) -> str:
    """The definition's head: its text up to the body, whitespace collapsed."""
    end = node.end_byte
    for field_name in spec.body_fields:
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


def _docstring(spec: LanguageSpec, node: Node) -> str:
    if spec.doc_style == "python":
        return _python_docstring(node)
    if spec.doc_style == "comment":
        return _leading_comments(node)
    return ""


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


def _leading_comments(node: Node) -> str:
    """Comment lines directly above a definition (doc comments, JSDoc, Rust ///)."""
    comments: list[str] = []
    current = node
    if current.parent is not None and current.parent.type in (
        "export_statement",
        "decorated_definition",
        "template_declaration",
    ):
        current = current.parent
    expected_row = current.start_point[0]
    sibling = current.prev_named_sibling
    while sibling is not None and sibling.type in ("comment", "line_comment", "block_comment"):
        if _end_row(sibling) + 1 < expected_row:
            break
        comments.append(_node_text(sibling))
        expected_row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
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


def _references(path: str, captures: dict[str, list[Node]]) -> tuple[list[Reference], list[str]]:
    imports: list[str] = []
    for node in captures.pop("import", ()):
        module = _node_text(node).strip().strip("\"'`<>")
        if module and module not in imports:
            imports.append(module)
    first: dict[tuple[str, str], tuple[int, int]] = {}
    counts: dict[tuple[str, str], int] = {}
    specific: set[int] = set()  # start bytes already captured as call/type/import
    # Specific kinds first, so a node also matched by a generic `@ref.ref` pattern is skipped.
    for capture in sorted(captures, key=lambda name: name == "ref.ref"):
        nodes = captures[capture]
        kind = capture[4:] if capture.startswith("ref.") else "ref"
        generic = kind == "ref"
        for node in nodes:
            if generic:
                if node.start_byte in specific:
                    continue
            else:
                specific.add(node.start_byte)
            raw = node.text
            if not raw:
                continue
            key = (raw.decode("utf-8", errors="replace"), kind)
            count = counts.get(key)
            if count is None:
                counts[key] = 1
                first[key] = node.start_point
            else:
                counts[key] = count + 1
                point = node.start_point
                if point < first[key]:
                    first[key] = point
    references = [
        Reference(name, path, row + 1, col, kind, counts[(name, kind)])
        for (name, kind), (row, col) in first.items()
    ]
    references.sort(key=lambda ref: (ref.line, ref.col, ref.name))
    return references, imports
