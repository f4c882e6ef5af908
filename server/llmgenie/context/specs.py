"""Per-language tree-sitter queries: what is a definition, what is a reference.

Capture conventions (read by context.parser):
    definitions: `@def.<kind>` on the whole definition node and `@name` on its name node;
                 optional `@parent` (text = explicit owner, e.g. a Go method's receiver
                 type or C++ `Shape::draw`'s scope) and `@kind` (a node whose type picks the
                 kind through `kind_map`, e.g. Go `type X struct{}` -> struct).
    references:  `@ref.call`, `@ref.type`, `@ref.import`, `@ref.ref` on identifier nodes;
                 `@import` on a module/path node (its text, quotes stripped, is an import).
Definitions and references run as one Query (one walk of the tree, in C), so extraction
costs little beyond the parse itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How to read one language: queries plus a few facts the parser needs."""

    lang: str
    definitions: str = ""
    references: str = ""
    doc_style: str = "comment"  # "python" (docstrings), "comment" (leading comments), "none"
    body_fields: tuple[str, ...] = ("body",)
    # Parent node types whose range a definition takes over (decorators, `export`, templates).
    wrappers: frozenset[str] = frozenset()
    kind_map: dict[str, str] = field(default_factory=dict)
    qualifier: str = "."
    signature_one_line: bool = False  # no body delimiters (Ruby): the head is the first line


PYTHON = LanguageSpec(
    lang="python",
    doc_style="python",
    wrappers=frozenset({"decorated_definition"}),
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
(call function: (identifier) @_check
  arguments: (argument_list (identifier) [(identifier) @ref.type
                                          (tuple (identifier) @ref.type)])
  (#match? @_check "^(isinstance|issubclass)$"))
""",
)

_JS_DEFINITIONS = """
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(class_declaration name: (_) @name) @def.class
(method_definition name: (_) @name) @def.method
(program (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @def.function)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(arrow_function) (function_expression)])) @def.function)
(program (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(number) (string) (object) (array) (call_expression) (new_expression)
            (template_string) (member_expression) (identifier)])) @def.variable)
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
    value: [(number) (string) (object) (array) (call_expression) (new_expression)
            (template_string) (member_expression) (identifier)])) @def.variable)
"""

_JS_REFERENCES = """
(call_expression function: (identifier) @ref.call)
(call_expression function: (member_expression property: (property_identifier) @ref.call))
(new_expression constructor: (identifier) @ref.call)
(import_statement source: (string (string_fragment) @import))
(export_statement source: (string (string_fragment) @import))
(import_specifier name: (identifier) @ref.import)
(call_expression function: (identifier) @_require
    arguments: (arguments (string (string_fragment) @import)) (#eq? @_require "require"))
(call_expression function: (import) arguments: (arguments (string (string_fragment) @import)))
"""

_TS_DEFINITIONS = (
    _JS_DEFINITIONS
    + """
(interface_declaration name: (_) @name) @def.interface
(type_alias_declaration name: (_) @name) @def.type
(enum_declaration name: (_) @name) @def.enum
(abstract_class_declaration name: (_) @name) @def.class
(internal_module name: (_) @name) @def.namespace
(module name: (_) @name) @def.module
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(function_signature name: (_) @name) @def.function
"""
)

_TS_REFERENCES = (
    _JS_REFERENCES
    + """
(type_identifier) @ref.type
(extends_clause value: (identifier) @ref.type)
"""
)

JAVASCRIPT = LanguageSpec(
    lang="javascript",
    wrappers=frozenset({"export_statement"}),
    definitions=_JS_DEFINITIONS,
    references=_JS_REFERENCES + "(class_heritage (identifier) @ref.type)",
)
TYPESCRIPT = LanguageSpec(
    lang="typescript",
    wrappers=frozenset({"export_statement"}),
    definitions=_TS_DEFINITIONS,
    references=_TS_REFERENCES,
)
TSX = LanguageSpec(
    lang="tsx",
    wrappers=frozenset({"export_statement"}),
    definitions=_TS_DEFINITIONS,
    references=_TS_REFERENCES
    + """
(jsx_opening_element name: (identifier) @ref.call)
(jsx_self_closing_element name: (identifier) @ref.call)
""",
)

GO = LanguageSpec(
    lang="go",
    wrappers=frozenset({"type_declaration", "const_declaration", "var_declaration"}),
    kind_map={"struct_type": "struct", "interface_type": "interface"},
    definitions="""
(function_declaration name: (identifier) @name) @def.function
(method_declaration
  receiver: (parameter_list (parameter_declaration
    type: [(type_identifier) @parent (pointer_type (type_identifier) @parent)
           (generic_type type: (type_identifier) @parent)
           (pointer_type (generic_type type: (type_identifier) @parent))]))
  name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (_) @kind) @def.type
(type_alias name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(method_elem name: (field_identifier) @name) @def.method
""",
    references="""
(call_expression function: (identifier) @ref.call)
(call_expression function: (selector_expression field: (field_identifier) @ref.call))
(type_identifier) @ref.type
(composite_literal type: (type_identifier) @ref.call)
(import_spec path: (interpreted_string_literal) @import)
""",
)

RUST = LanguageSpec(
    lang="rust",
    wrappers=frozenset(),
    definitions="""
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.struct
(union_item name: (type_identifier) @name) @def.union
(enum_item name: (type_identifier) @name) @def.enum
(trait_item name: (type_identifier) @name) @def.trait
(impl_item type: [(type_identifier) @name (generic_type type: (type_identifier) @name)
                  (scoped_type_identifier name: (type_identifier) @name)]) @def.impl
(mod_item name: (identifier) @name) @def.module
(macro_definition name: (identifier) @name) @def.macro
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant
(type_item name: (type_identifier) @name) @def.type
""",
    references="""
(call_expression function: (identifier) @ref.call)
(call_expression function: (field_expression field: (field_identifier) @ref.call))
(call_expression function: (scoped_identifier name: (identifier) @ref.call))
(macro_invocation macro: (identifier) @ref.call)
(struct_expression name: (type_identifier) @ref.call)
(type_identifier) @ref.type
(impl_item trait: (type_identifier) @ref.type)
(use_declaration argument: (_) @import)
(mod_item name: (identifier) @import !body)
""",
)

JAVA = LanguageSpec(
    lang="java",
    definitions="""
(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.record
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @def.field
""",
    references="""
(method_invocation name: (identifier) @ref.call)
(object_creation_expression type: (type_identifier) @ref.call)
(type_identifier) @ref.type
(marker_annotation name: (identifier) @ref.type)
(annotation name: (identifier) @ref.type)
(import_declaration (scoped_identifier) @import)
""",
)

_C_DEFINITIONS = """
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @def.function
(function_definition declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name))) @def.function
(struct_specifier name: (type_identifier) @name body: (_)) @def.struct
(union_specifier name: (type_identifier) @name body: (_)) @def.union
(enum_specifier name: (type_identifier) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.typedef
(preproc_function_def name: (identifier) @name) @def.macro
(preproc_def name: (identifier) @name) @def.constant
(declaration declarator: (function_declarator declarator: (identifier) @name)) @def.prototype
(declaration declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name))) @def.prototype
"""

_C_REFERENCES = """
(call_expression function: (identifier) @ref.call)
(call_expression function: (field_expression field: (field_identifier) @ref.call))
(type_identifier) @ref.type
(preproc_include path: (_) @import)
"""

C = LanguageSpec(lang="c", definitions=_C_DEFINITIONS, references=_C_REFERENCES)

CPP = LanguageSpec(
    lang="cpp",
    wrappers=frozenset({"template_declaration"}),
    definitions=_C_DEFINITIONS
    + """
(function_definition declarator: (function_declarator
    declarator: (field_identifier) @name)) @def.function
(function_definition declarator: (function_declarator
    declarator: (qualified_identifier scope: (_) @parent name: (identifier) @name))) @def.method
(function_definition declarator: (function_declarator
    declarator: (qualified_identifier
      name: (qualified_identifier name: (identifier) @name)) @parent)) @def.method
(class_specifier name: (type_identifier) @name body: (_)) @def.class
(namespace_definition name: (_) @name) @def.namespace
""",
    references=_C_REFERENCES
    + """
(call_expression function: (qualified_identifier name: (identifier) @ref.call))
(base_class_clause (type_identifier) @ref.type)
(using_declaration (_) @import)
""",
)

CSHARP = LanguageSpec(
    lang="csharp",
    definitions="""
(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(struct_declaration name: (identifier) @name) @def.struct
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.record
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(property_declaration name: (identifier) @name) @def.field
(namespace_declaration name: (_) @name) @def.namespace
""",
    references="""
(invocation_expression function: (identifier) @ref.call)
(invocation_expression function: (member_access_expression name: (identifier) @ref.call))
(object_creation_expression type: (identifier) @ref.call)
(base_list (identifier) @ref.type)
(base_list (generic_name (identifier) @ref.type))
(generic_name (identifier) @ref.type)
(parameter type: (identifier) @ref.type)
(attribute name: (identifier) @ref.type)
(using_directive (qualified_name) @import)
(using_directive (identifier) @import)
""",
)

RUBY = LanguageSpec(
    lang="ruby",
    signature_one_line=True,
    definitions="""
(class name: (_) @name) @def.class
(module name: (_) @name) @def.module
(method name: (_) @name) @def.method
(singleton_method name: (_) @name) @def.method
""",
    references="""
(call method: (identifier) @ref.call)
(superclass (constant) @ref.type)
(call method: (identifier) @_req arguments: (argument_list (string (string_content) @import))
    (#match? @_req "^require"))
(call receiver: (constant) @ref.ref)
""",
)

PHP = LanguageSpec(
    lang="php",
    definitions="""
(class_declaration name: (name) @name) @def.class
(interface_declaration name: (name) @name) @def.interface
(trait_declaration name: (name) @name) @def.trait
(enum_declaration name: (name) @name) @def.enum
(method_declaration name: (name) @name) @def.method
(function_definition name: (name) @name) @def.function
""",
    references="""
(function_call_expression function: (name) @ref.call)
(member_call_expression name: (name) @ref.call)
(scoped_call_expression name: (name) @ref.call)
(object_creation_expression (name) @ref.call)
(base_clause (name) @ref.type)
(class_interface_clause (name) @ref.type)
(namespace_use_clause (qualified_name) @import)
""",
)

BASH = LanguageSpec(
    lang="bash",
    definitions="""
(function_definition name: (word) @name) @def.function
(program (variable_assignment name: (variable_name) @name) @def.variable)
""",
    references="""
(command name: (command_name (word) @ref.call))
(command name: (command_name (word) @_src) argument: (word) @import
    (#match? @_src "^(source|\\\\.)$"))
""",
)

YAML = LanguageSpec(
    lang="yaml",
    doc_style="none",
    definitions="""
(stream (document (block_node (block_mapping (block_mapping_pair key: (_) @name) @def.key))))
(stream (document (block_node (block_mapping (block_mapping_pair
  value: (block_node (block_mapping (block_mapping_pair key: (_) @name) @def.key)))))))
""",
)

JSON = LanguageSpec(
    lang="json",
    doc_style="none",
    definitions="""
(document (object (pair key: (string (string_content) @name)) @def.key))
(document (object (pair value: (object (pair key: (string (string_content) @name)) @def.key))))
""",
)

TOML = LanguageSpec(
    lang="toml",
    doc_style="none",
    definitions="""
(document (pair [(bare_key) (quoted_key) (dotted_key)] @name) @def.key)
(table [(bare_key) (quoted_key) (dotted_key)] @name) @def.table
(table_array_element [(bare_key) (quoted_key) (dotted_key)] @name) @def.table
""",
)

HCL = LanguageSpec(
    lang="hcl",
    definitions="""
(config_file (body (block (identifier) @name) @def.block))
""",
    references="""
(variable_expr (identifier) @ref.ref)
(get_attr (identifier) @ref.ref)
(function_call (identifier) @ref.call)
""",
)

DOCKERFILE = LanguageSpec(
    lang="dockerfile",
    definitions="""
(from_instruction) @def.stage @name
(arg_instruction name: (_) @name) @def.variable
(env_instruction (env_pair name: (_) @name)) @def.variable
""",
    references="""
(from_instruction (image_spec name: (image_name) @import))
""",
)

MARKDOWN = LanguageSpec(
    lang="markdown",
    doc_style="none",
    qualifier=" > ",
    definitions="""
(section . (atx_heading heading_content: (_) @name)) @def.section
(section . (setext_heading heading_content: (_) @name)) @def.section
""",
)

SPECS: dict[str, LanguageSpec] = {
    spec.lang: spec
    for spec in (
        PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, GO, RUST, JAVA, C, CPP, CSHARP, RUBY, PHP, BASH,
        YAML, JSON, TOML, HCL, DOCKERFILE, MARKDOWN,
    )
}  # fmt: skip
