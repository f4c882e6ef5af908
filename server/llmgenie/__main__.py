"""`python -m llmgenie ...` runs the CLI (the editor extension launches the server this way)."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        # The server's cold start is budgeted (< 300 ms to `initialize`): go straight to its
        # entry point instead of importing the whole typer CLI first.
        from llmgenie.lsp.entry import exit_now
        from llmgenie.lsp.entry import main as serve_main

        exit_now(serve_main(sys.argv[2:]))
    from llmgenie.cli.main import app

    app()
