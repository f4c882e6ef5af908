"""`llmgenie embeddings prepare [--precision int8|fp32] [--json]`: build the local embedding
model now (install time), verified against its reference vectors, so the first
`index --embed` or editor session does not wait for it (index/embeddings/prepare.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from llmgenie.cli.common import err_console, settings_for, workspace_root

embeddings_app = typer.Typer(help="The local embedding model.", no_args_is_help=True)


@embeddings_app.command("prepare")
def prepare(
    precision: Annotated[
        str, typer.Option("--precision", help="int8 (the default the index uses) or fp32")
    ] = "int8",
    path: Annotated[Path, typer.Option("--path", help="workspace whose settings apply")] = Path(
        "."
    ),
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Build the local embedding model if needed and check it against reference vectors."""
    from llmgenie.index.embeddings.base import EmbeddingUnavailable
    from llmgenie.index.embeddings.factory import model_cache_dir
    from llmgenie.index.embeddings.prepare import prepare_local_model

    if precision not in ("int8", "fp32"):
        err_console.print(f"[red]error:[/red] --precision must be int8 or fp32, not {precision!r}")
        raise typer.Exit(2)
    chosen: Literal["int8", "fp32"] = "int8" if precision == "int8" else "fp32"
    settings = settings_for(workspace_root(path))
    try:
        ready = prepare_local_model(
            model_cache_dir(settings), chosen, announce=lambda m: err_console.print(m)
        )
    except EmbeddingUnavailable as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    check = (
        "no reference for these weights"
        if ready.min_cosine is None
        else (f"matches its reference vectors (cosine ≥ {ready.min_cosine:.4f})")
    )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "path": str(ready.path),
                    "precision": ready.precision,
                    "built": ready.built,
                    "seconds": ready.seconds,
                    "min_cosine": ready.min_cosine,
                }
            )
        )
        return
    verb = f"built in {ready.seconds:.1f}s" if ready.built else "already built"
    typer.echo(f"embedding model {verb}: {ready.path}; {check}")


def register(app: typer.Typer) -> None:
    """Add the `embeddings` command group to the root app."""
    app.add_typer(embeddings_app, name="embeddings")
