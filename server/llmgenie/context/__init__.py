"""tree-sitter understanding of source files: symbols, references, chunks, graph, repo map."""
