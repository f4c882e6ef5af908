"""`python -m llmgenie ...` runs the CLI (the editor extension launches the server this way)."""

from llmgenie.cli.main import app

if __name__ == "__main__":
    app()
