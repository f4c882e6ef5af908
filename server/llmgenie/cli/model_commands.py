"""`llmgenie model list [PATH] [--json]`: the configured model chain and the local models;
`llmgenie model serve FILE`: serve a GGUF file on 127.0.0.1 (the `local` extra).

`list` shows what a run would use (the model and its fallbacks from the workspace's
settings) and what a running Ollama offers, with the model llmgenie suggests when none is
configured. Detection takes at most half a second and never fails the command.

`serve` starts llama-cpp-python's OpenAI-compatible server for the file, prints the
settings that point llmgenie at it, restarts it if it dies and stops it on Ctrl-C or
SIGTERM (llm/llama_server.py).
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


@model_app.command("serve")
def serve_model(
    model_file: Annotated[Path, typer.Argument(help="a GGUF model file")],
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: a free one)")] = 0,
    threads: Annotated[int, typer.Option(help="generation threads (0: cores - 1)")] = 0,
    context: Annotated[int, typer.Option(help="context window in tokens")] = 8192,
) -> None:
    """Serve a GGUF model on 127.0.0.1 until Ctrl-C (needs `pip install 'llmgenie\\[local]'`)."""
    import signal

    from rich.markup import escape

    from llmgenie.llm.llama_server import LlamaServer, LlamaServerFailed, LlamaServerMissing

    if not model_file.is_file():
        err_console.print(
            f"[red]error:[/red] no such model file: {escape(str(model_file))}", highlight=False
        )
        raise typer.Exit(2)
    try:
        server = LlamaServer.for_model(
            model_file.resolve(), port=port, threads=threads or None, context=context
        )
    except LlamaServerMissing as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc

    def on_restart(count: int, code: int | None) -> None:
        err_console.print(f"model server exited ({code}); restarted ({count})", highlight=False)

    server.on_restart = on_restart
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    err_console.print(f"loading {model_file.name}…", highlight=False)
    try:
        server.start()
        typer.echo(f"serving {model_file.name} at {server.api_base}")
        typer.echo(
            f"use it with: LLMGENIE_LLM__MODEL=openai/{model_file.stem} "
            f"LLMGENIE_LLM__API_BASE={server.api_base}"
        )
        server.supervise()
    except LlamaServerFailed as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    """Add the `model` command group to the root app."""
    app.add_typer(model_app, name="model")
