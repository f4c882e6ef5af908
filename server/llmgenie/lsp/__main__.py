"""`python -m llmgenie.lsp --stdio`: the language server without the CLI around it."""

from llmgenie.lsp.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
