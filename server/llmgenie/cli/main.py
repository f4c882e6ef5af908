"""Entry point of the `llmgenie` console script.

Each group of commands lives in its own module and registers itself here; heavy libraries
(chromadb, crewai, litellm) are imported inside the commands, so `--help` stays instant.
"""

from __future__ import annotations

import typer

from llmgenie import __version__
from llmgenie.cli import (
    agent_commands,
    engine_commands,
    mcp_command,
    model_commands,
    serve_command,
    team_commands,
)

app = typer.Typer(
    name="llmgenie",
    help="llmgenie: an AI engineering team in your editor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


engine_commands.register(app)
serve_command.register(app)
agent_commands.register(app)
team_commands.register(app)
model_commands.register(app)
mcp_command.register(app)
