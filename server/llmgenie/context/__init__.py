"""tree-sitter understanding of source files: symbols, references, chunks, graph, repo map.

Modules (each documents its public API in its docstring):
    languages  file name -> language id; cached per-thread tree-sitter parsers
    specs      per-language tree-sitter queries (definitions and references)
    parser     parse_document(path, text, max_chunk_lines=60, language=None) -> ParsedFile
    chunking   symbol-boundary chunking with a line cap
    graph      CodeGraph: definition/reference/import graph, personalised PageRank
    repomap    render_repo_map(...): token-budgeted outline for prompts
    occurrences find_occurrences(text, name): every whole-word use (line, column)
    models     Chunk, ParsedFile (Symbol, Reference: llmgenie.contracts.symbols)
"""
