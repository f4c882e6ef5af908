"""Entry point of the `llmgenie` console script.

Each group of commands lives in its own module and registers itself here; heavy libraries
(chromadb, crewai, litellm) are imported inside the commands, so `--help` stays instant.
"""

from __future__ import annotations

import typer

from llmgenie import __version__
from llmgenie.cli import (
    agent_commands,
    embedding_commands,
    engine_commands,
    mcp_command,
    model_commands,
    serve_command,
    team_commands,
    trust_commands,
)

app = typer.Typer(
    name="llmgenie",
    help="llmgenie: an AI engineering team in your editor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"llmgenie {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,  # answered before Typer asks for a command
        help="Print the version and exit.",
    ),
) -> None:
    """llmgenie: an AI engineering team in your editor."""


engine_commands.register(app)
serve_command.register(app)
agent_commands.register(app)
team_commands.register(app)
model_commands.register(app)
embedding_commands.register(app)
trust_commands.register(app)
mcp_command.register(app)
