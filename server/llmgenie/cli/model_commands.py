"""`llmgenie model list [PATH] [--json]`: the configured model chain and the local models.

It shows what a run would use (the model and its fallbacks from the workspace's settings)
and what a running Ollama offers, with the model llmgenie suggests when none is configured.
Detection takes at most half a second and never fails the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from llmgenie.cli.common import err_console, settings_for, workspace_root

model_app = typer.Typer(help="Models: the configured chain and local models.", no_args_is_help=True)


@model_app.command("list")
def list_models(
    path: Annotated[Path, typer.Argument(help="workspace whose settings apply")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """List the configured model chain and the models of a running Ollama."""
    from llmgenie.llm.client import model_chain
    from llmgenie.llm.local import detect_ollama, ollama_url, suggest_model

    settings = settings_for(workspace_root(path))
    configured = model_chain(settings)
    ollama = detect_ollama()
    suggested = suggest_model(ollama.models) if ollama else None
    if as_json:
        payload = {
            "configured": configured,
            "ollama": {
                "url": ollama.url if ollama else ollama_url(),
                "running": ollama is not None,
                "models": [m.model_dump() for m in ollama.models] if ollama else [],
            },
            "suggested": suggested.model if suggested else None,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    if configured:
        typer.echo("configured: " + " → ".join(configured))
    else:
        typer.echo("configured: none (set LLMGENIE_LLM__MODEL or [llm] model in llmgenie.toml)")
    if ollama is None:
        typer.echo(f"ollama: not running at {ollama_url()}")
    else:
        typer.echo(f"ollama: {ollama.url} ({len(ollama.models)} model(s))")
        for model in ollama.models:
            size = f"  {model.parameter_size}" if model.parameter_size else ""
            typer.echo(f"  {model.model}{size}")
    if suggested and not configured:
        err_console.print(f"to use it: LLMGENIE_LLM__MODEL={suggested.model}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `model` command group to the root app."""
    app.add_typer(model_app, name="model")
