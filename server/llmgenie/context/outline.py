"""A fast outline (symbols, imports, calls, chunks) without a full parse, for cold indexing.

tree-sitter parses about 4 MB/s per core, so a repository of large files (sympy: 17 KB
per file on average) cannot be fully parsed at 1,000 files/s on two cores. For languages
whose structure is visible line by line (Python by indentation, Markdown by headings) this
module builds the same ParsedFile from regular expressions and one pass over the lines, at
a fraction of the cost, so the index can answer with symbols at once and refine with
parse_document later (in the background, like embeddings).

Python: definitions are `def`/`class` lines outside triple-quoted strings; a definition
ends before the next code line indented at or left of it (comments and blank lines do not
close it, as in the Python tokenizer); decorators belong to the definition. References are
the names a file imports (calls and other uses come with the full parse).
Markdown: ATX headings outside fenced code.

Public API:
    outline_document(path: str, text: str, max_chunk_lines: int = 60,
                     language: str | None = None) -> ParsedFile | None
    OUTLINE_LANGUAGES: frozenset[str]      # languages it handles; None for the others
"""

from __future__ import annotations

import inspect
import keyword
import re
from bisect import bisect_right

from llmgenie.context.chunking import build_regions, chunk_lines
from llmgenie.context.languages import language_for_path
from llmgenie.context.models import ParsedFile, Reference, Symbol

OUTLINE_LANGUAGES = frozenset({"python", "markdown"})

# Every code line (not blank, not a comment): its indentation, and `def`/`class` name or
# the target of a simple assignment.
_PY_LINE = re.compile(
    r"^([ \t]*)(?:(async[ \t]+def|def|class)[ \t]+([A-Za-z_]\w*)"
    r"|([A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=(?!=)|([^ \t\r\n#]))",
    re.M,
)
_TRIPLE = re.compile(r"\"\"\"|'''")
_PY_FROM = re.compile(r"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.M)
_PY_KEYWORDS = frozenset(keyword.kwlist) | {"print"}
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_MD_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.M)
MAX_SIGNATURE_LINES = 6
_CLOSERS = frozenset(")]}")


def outline_document(
    path: str, text: str, max_chunk_lines: int = 60, language: str | None = None
) -> ParsedFile | None:
    """A ParsedFile from line structure alone, or None if `language` has no outline."""
    lang = language or language_for_path(path)
    if lang not in OUTLINE_LANGUAGES:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    newlines = [m.start() for m in re.finditer("\n", text)]
    if lang == "markdown":
        symbols = _markdown_symbols(path, text, lines, newlines)
        regions = build_regions((s.start_line, s.end_line, s.qualified_name) for s in symbols)
        chunks = chunk_lines(
            path, lines, regions, max_chunk_lines, "doc", pack=True, qualifier=" > "
        )
        return ParsedFile(path, lang, symbols=symbols, chunks=chunks)
    strings = _string_spans(text, newlines)
    symbols, starts = _python_symbols(path, text, lines, newlines, strings)
    references, imports = _python_references(path, text, newlines)
    regions = build_regions(
        (start, s.end_line, s.qualified_name)
        for s, start in zip(symbols, starts, strict=True)
        if s.kind in ("class", "function", "method")
    )
    chunks = chunk_lines(path, lines, regions, max_chunk_lines, "code")
    return ParsedFile(path, lang, symbols, references, imports, chunks)


def _line_of(newlines: list[int], offset: int) -> int:
    """1-based line of a character offset."""
    return bisect_right(newlines, offset - 1) + 1


def _string_spans(text: str, newlines: list[int]) -> list[tuple[int, int]]:
    """(first, last) 1-based lines of each multi-line triple-quoted string."""
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        match = _TRIPLE.search(text, position)
        if match is None:
            return spans
        quote = match.group()
        end = text.find(quote, match.end())
        if end == -1:
            end = len(text)
        first, last = _line_of(newlines, match.start()), _line_of(newlines, end)
        if last > first:
            spans.append((first, last))
        position = end + 3


def _python_symbols(
    path: str, text: str, lines: list[str], newlines: list[int], strings: list[tuple[int, int]]
) -> tuple[list[Symbol], list[int]]:
    # Lines inside a multi-line string (after its first line) are not code.
    in_string = bytearray(len(lines) + 2)
    for first, last in strings:
        in_string[first + 1 : last + 1] = b"\x01" * (last - first)
    # One pass over code lines: indentation of each (what opens and closes blocks), and
    # which of them define something.
    code: list[tuple[int, int]] = []
    found: list[tuple[int, int, str, str]] = []  # (line, indent, keyword, name)
    line_number = 1
    last_offset = 0
    for match in _PY_LINE.finditer(text):
        offset = match.start()
        line_number += text.count("\n", last_offset, offset)
        last_offset = offset
        if in_string[line_number]:
            continue
        if match.group(5) in _CLOSERS:
            continue  # `)` / `]` / `}` ends a continuation, not a block
        indent = len(match.group(1))
        code.append((line_number, indent))
        keyword_ = match.group(2)
        if keyword_ is not None:
            found.append((line_number, indent, keyword_.split()[-1], match.group(3)))
        elif indent == 0 and match.group(4) is not None:
            found.append((line_number, 0, "var", match.group(4)))
    code_numbers = [number for number, _ in code]
    symbols: list[Symbol] = []
    starts: list[int] = []
    stack: list[tuple[int, int, str, str]] = []  # (indent, end, qualified name, kind)
    for number, indent, keyword_, name in found:
        while stack and (stack[-1][0] >= indent or stack[-1][1] < number):
            stack.pop()
        end = _block_end(code, code_numbers, number, indent, lines, in_string)
        parent = stack[-1][2] if stack else None
        parent_kind = stack[-1][3] if stack else ""
        if keyword_ == "class":
            kind = "class"
        elif keyword_ == "def":
            kind = "method" if parent_kind == "class" else "function"
        else:
            kind = "variable"
        qualified = f"{parent}.{name}" if parent else name
        # Decorators belong to the definition (comments may sit between them), and the
        # comments right above travel with it into its chunk.
        start, chunk_start = _decorated_start(lines, in_string, number, indent)
        signature, docstring = _signature_and_doc(lines, number, end, keyword_)
        symbols.append(
            Symbol(name, qualified, kind, path, start, max(end, number), indent, signature,
                   docstring, parent)
        )  # fmt: skip
        starts.append(chunk_start)
        if kind != "variable":
            stack.append((indent, end, qualified, kind))
    return symbols, starts


def _decorated_start(
    lines: list[str], in_string: bytearray, number: int, indent: int
) -> tuple[int, int]:
    """(first decorator line, first line of the comments above it) for a definition.

    Walks up over decorators, comments, and the continuation lines of multi-line decorator
    calls; a continuation only counts once a decorator above it is found.
    """
    start = number
    line_number = number - 1
    lowest = max(1, number - 40)
    while line_number >= lowest:
        line = lines[line_number - 1]
        stripped = line.lstrip()
        if not stripped:
            break
        own_indent = len(line) - len(stripped)
        if stripped[0] == "@" and own_indent == indent and not in_string[line_number]:
            start = line_number
        elif stripped[0] == "#" or in_string[line_number]:
            pass
        elif own_indent <= indent and stripped[0] not in _CLOSERS:
            break
        line_number -= 1
    chunk_start = start
    while chunk_start > 1 and lines[chunk_start - 2].lstrip().startswith("#"):
        chunk_start -= 1
    return start, chunk_start


def _block_end(
    code: list[tuple[int, int]],
    code_numbers: list[int],
    number: int,
    indent: int,
    lines: list[str],
    in_string: bytearray,
) -> int:
    """Last content line of the block opened at `number` (indent-based).

    The block runs until the next code line at or left of its indentation; trailing blank
    lines, and comments at or left of that indentation, are not part of it.
    """
    index = bisect_right(code_numbers, number)
    closing = len(lines) + 1
    for position in range(index, len(code)):
        line_number, line_indent = code[position]
        if line_indent <= indent:
            closing = line_number
            break
    end = closing - 1
    while end > number and not in_string[end]:
        line = lines[end - 1]
        stripped = line.lstrip()
        if stripped and (stripped[0] != "#" or len(line) - len(stripped) > indent):
            break
        end -= 1
    return end


def _signature_and_doc(lines: list[str], number: int, end: int, keyword: str) -> tuple[str, str]:
    if keyword == "var":
        return " ".join(lines[number - 1].split())[:240], ""
    header: list[str] = []
    body_line = number
    for offset in range(MAX_SIGNATURE_LINES):
        if number + offset > len(lines):
            break
        line = lines[number - 1 + offset]
        header.append(line.strip())
        body_line = number + offset + 1
        if line.split("#", 1)[0].rstrip().endswith(":"):
            break
    signature = " ".join(" ".join(header).split()).rstrip(":").rstrip()
    docstring = ""
    if body_line <= min(end, len(lines)):
        first = lines[body_line - 1].strip()
        for quote in ('"""', "'''"):
            position = first.find(quote)
            if position != -1 and position <= 2:
                rest = first[position + 3 :]
                if quote in rest:
                    docstring = rest[: rest.find(quote)]
                else:
                    parts = [rest]
                    for line in lines[body_line : min(end, body_line + 60)]:
                        if quote in line:
                            parts.append(line[: line.find(quote)])
                            break
                        parts.append(line)
                    docstring = "\n".join(parts)
                docstring = inspect.cleandoc(docstring)[:1200]
                break
    return signature[:240], docstring


def _python_references(
    path: str, text: str, newlines: list[int]
) -> tuple[list[Reference], list[str]]:
    imports: dict[str, None] = {}
    references: list[Reference] = []
    seen: set[str] = set()
    for match in _PY_FROM.finditer(text):
        imports[match.group(1)] = None
        line = _line_of(newlines, match.start())
        for item in match.group(2).strip("()").split(","):
            name = item.split(" as ")[0].strip().split("#")[0].strip()
            if name.isidentifier() and name not in seen:
                seen.add(name)
                references.append(Reference(name, path, line, 0, "import"))
    for match in _PY_IMPORT.finditer(text):
        for item in match.group(1).split("#")[0].split(","):
            module = item.split(" as ")[0].strip()
            if module and all(part.isidentifier() for part in module.split(".")):
                imports[module] = None
    references.sort(key=lambda ref: (ref.line, ref.col, ref.name))
    return references, list(imports)


def _markdown_symbols(path: str, text: str, lines: list[str], newlines: list[int]) -> list[Symbol]:
    fenced = bytearray(len(lines) + 2)
    fences = [_line_of(newlines, m.start()) for m in _MD_FENCE.finditer(text)]
    for first, last in zip(fences[::2], fences[1::2], strict=False):
        fenced[first : last + 1] = b"\x01" * (last - first + 1)
    headings: list[tuple[int, int, str]] = []
    for match in _MD_HEADING.finditer(text):
        number = _line_of(newlines, match.start())
        if not fenced[number]:
            headings.append((number, len(match.group(1)), match.group(2).strip()))
    symbols: list[Symbol] = []
    stack: list[tuple[int, str]] = []  # (level, qualified name)
    total = len(lines)
    for index, (number, level, title) in enumerate(headings):
        end = total
        for later, later_level, _ in headings[index + 1 :]:
            if later_level <= level:
                end = later - 1
                break
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else None
        qualified = f"{parent} > {title}" if parent else title
        signature = lines[number - 1].strip()
        symbols.append(
            Symbol(title, qualified, "section", path, number, end, 0, signature, "", parent)
        )
        stack.append((level, qualified))
    return symbols
