"""The `llmgenie` command line: an adapter over the same services the language server uses."""
