"""Per-language tree-sitter queries: what is a definition, what is a reference.

Capture conventions (read by context.parser):
    definitions: `@def.<kind>` on the whole definition node and `@name` on its name node.
    references:  `@ref.call`, `@ref.type`, `@ref.import`, `@ref.ref` on identifier nodes,
                 `@import` on a module/path node (its text, quotes stripped, is an import).
Queries run in C (QueryCursor), so extraction costs little beyond the parse itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How to read one language: queries plus a few facts the parser needs."""

    lang: str
    definitions: str = ""
    references: str = ""
    chunk_kind: str = "code"
    doc_style: str = "comment"  # "python" (docstrings), "comment" (leading comments), "none"
    body_fields: tuple[str, ...] = ("body",)


PYTHON = LanguageSpec(
    lang="python",
    doc_style="python",
    definitions="""
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (assignment left: (identifier) @name) @def.variable)
(class_definition body: (block (assignment left: (identifier) @name type: (_)) @def.field))
""",
    references="""
(call function: (identifier) @ref.call)
(call function: (attribute attribute: (identifier) @ref.call))
(type (identifier) @ref.type)
(type (generic_type (identifier) @ref.type))
(class_definition superclasses: (argument_list (identifier) @ref.type))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @ref.type)))
(decorator (identifier) @ref.call)
(decorator (attribute attribute: (identifier) @ref.call))
(decorator (call function: (identifier) @ref.call))
(import_statement name: (dotted_name) @import)
(import_statement name: (aliased_import name: (dotted_name) @import))
(import_from_statement module_name: (dotted_name) @import)
(import_from_statement module_name: (relative_import) @import)
(import_from_statement name: (dotted_name (identifier) @ref.import))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @ref.import)))
(except_clause (identifier) @ref.type)
(raise_statement (identifier) @ref.type)
(argument_list (identifier) @ref.ref)
""",
)

SPECS: dict[str, LanguageSpec] = {"python": PYTHON}
