"""The language server: thin pygls handlers that map LSP methods onto llmgenie's services.

Importing this package is cheap; `llmgenie.lsp.server.create_server()` builds the server.
Heavy libraries (chromadb, crewai, litellm, onnxruntime) are only imported by the services,
lazily, from worker threads.
"""
