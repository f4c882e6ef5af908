"""`llmgenie index | search | map | context | doctor`: the context engine from the CLI.

stdout carries only the command's result (one JSON object with --json); progress bars and
logs go to stderr, so scripts and benchmarks can parse stdout directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmgenie.cli.common import (
    UNWRITABLE_ERRNOS,
    err_console,
    index_errors,
    settings_for,
    workspace_root,
)

if TYPE_CHECKING:
    from llmgenie.config import Settings
    from llmgenie.contracts.progress import ProgressCallback
    from llmgenie.engine import WorkspaceEngine


@contextmanager
def _progress(enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr fed by engine ProgressEvents (quiet when not a tty)."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from llmgenie.contracts.progress import ProgressEvent

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(event: ProgressEvent) -> None:
            task = tasks.get(event.stage)
            if task is None:
                task = tasks[event.stage] = bar.add_task(event.stage, total=max(event.total, 1))
            bar.update(task, completed=event.done, total=max(event.total, 1))

        yield update


@contextmanager
def _engine(path: Path) -> Iterator[WorkspaceEngine]:
    """The workspace's engine; a corrupt or read-only index ends the command with one line."""
    root = workspace_root(path)
    settings = settings_for(root)
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.locations import locations_for

    with index_errors(root, locations_for(root, settings).index_dir):
        try:
            engine = WorkspaceEngine.open(root, settings)
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno in UNWRITABLE_ERRNOS:
                raise
            err_console.print(f"[red]error:[/red] cannot open the index for {root}: {exc}")
            raise typer.Exit(1) from exc
        try:
            yield engine
        finally:
            engine.close()


def _ensure_indexed(engine: WorkspaceEngine) -> None:
    """Bring the index up to date first (incremental: a no-change pass only stats files)."""
    with _progress() as progress:
        summary = engine.index(progress)
    if summary.indexed or summary.removed:
        err_console.print(
            f"indexed {summary.files} files ({summary.symbols} symbols, {summary.chunks} chunks)"
            f" in {summary.seconds:.2f}s"
        )


def index_command(
    path: Annotated[Path, typer.Argument(help="Workspace root to index.")] = Path("."),
    embed: Annotated[
        bool, typer.Option("--embed/--no-embed", help="Also compute dense vectors.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Drop the index first (runs and the audit log are kept)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    """Index a workspace (incremental): files, symbols, chunks; optionally embeddings."""
    if rebuild:
        from llmgenie.app.folders import Folder
        from llmgenie.app.indexing import drop_index

        root = workspace_root(path)
        settings = settings_for(root)
        from llmgenie.locations import locations_for

        with index_errors(root, locations_for(root, settings).index_dir):
            directory = drop_index(Folder(root=root, settings=settings))
        err_console.print(f"dropped the index at {directory}")
    with _engine(path) as engine:
        with _progress() as progress:
            summary = engine.index(progress)
        embedded = 0
        embed_seconds = 0.0
        if embed:
            _announce_model_build(engine.settings)
            started = time.perf_counter()
            with _progress() as progress:
                embedded = engine.embed_pending(progress=progress)
            embed_seconds = time.perf_counter() - started
        health = engine.health() if as_json else None
        status = engine.embedding_status()
        if as_json:
            payload = summary.model_dump()
            payload.update(
                embedded=embedded,
                embed_seconds=round(embed_seconds, 3),
                embedding_status=status,
                vectors=health.vectors if health else 0,
            )
            typer.echo(json.dumps(payload))
            return
        skipped = ", ".join(f"{n} {r}" for r, n in sorted(summary.skipped.items())) or "none"
        typer.echo(
            f"{summary.files} files ({summary.indexed} parsed, {summary.removed} removed),"
            f" {summary.symbols} symbols, {summary.chunks} chunks in {summary.seconds:.2f}s"
        )
        typer.echo(f"skipped: {skipped}")
        if embed:
            rate = embedded / embed_seconds if embed_seconds > 0 else 0.0
            typer.echo(
                f"embeddings: {embedded} chunks in {embed_seconds:.2f}s ({rate:.0f}/s); {status}"
            )
        else:
            typer.echo(f"embeddings: not computed (use --embed); {status}")


def _announce_model_build(settings: Settings) -> None:
    """Build the local embedding model up front, saying so (it takes seconds, once),
    instead of silently inside the first embedding batch."""
    if settings.index.embeddings not in ("auto", "local"):
        return
    from llmgenie.index.embeddings.base import EmbeddingUnavailable
    from llmgenie.index.embeddings.factory import model_cache_dir
    from llmgenie.index.embeddings.model_package import package_available
    from llmgenie.index.embeddings.prepare import model_is_built, prepare_local_model

    if not package_available():
        return  # embedding reports the degraded status itself
    cache = model_cache_dir(settings)
    precision = settings.index.embedding_precision
    try:
        if not model_is_built(cache, precision):
            prepare_local_model(cache, precision, announce=lambda m: err_console.print(m))
    except EmbeddingUnavailable as exc:
        err_console.print(f"embeddings unavailable: {exc}", soft_wrap=True)


def search_command(
    first: Annotated[
        str, typer.Argument(metavar="[PATH] QUERY", help="Workspace root (default: .), then")
    ],
    second: Annotated[
        str | None,
        typer.Argument(
            metavar="", help="the search text (words, identifiers, an issue report...)."
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=500, help="Results per list.")] = 10,
    focus: Annotated[
        str | None, typer.Option("--focus", help="Workspace file to personalise on.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    reasons: Annotated[
        bool, typer.Option("--reasons/--no-reasons", help="Include score reasons.")
    ] = True,
) -> None:
    """Hybrid search; brings PATH's index up to date first (incremental).

    `llmgenie search QUERY` searches the current directory; `llmgenie search PATH QUERY`
    another workspace."""
    from llmgenie.contracts.errors import InvalidRequest

    path, query = (Path("."), first) if second is None else (Path(first), second)

    with _engine(path) as engine:
        _ensure_indexed(engine)
        try:
            result = engine.search(query, k=k, focus=focus)
        except InvalidRequest as exc:
            err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from exc
    if as_json:
        exclude: dict[str, Any] = {"chunks": {"__all__": {"text"}}}
        if not reasons:
            exclude = {
                "files": {"__all__": {"reasons"}},
                "chunks": {"__all__": {"text", "reasons"}},
            }
        typer.echo(json.dumps(result.model_dump(exclude=exclude)))
        return
    from rich.console import Console
    from rich.table import Table

    out = Console()
    files = Table(title="files", show_lines=False)
    files.add_column("#", justify="right")
    files.add_column("path")
    files.add_column("score", justify="right")
    files.add_column("why")
    for i, hit in enumerate(result.files, start=1):
        why = ", ".join(f"{r.signal}#{r.rank}" for r in hit.reasons[:4])
        files.add_row(str(i), hit.path, f"{hit.score:.4f}", why)
    out.print(files)
    chunks = Table(title="chunks")
    chunks.add_column("#", justify="right")
    chunks.add_column("location")
    chunks.add_column("symbol")
    chunks.add_column("score", justify="right")
    for i, c in enumerate(result.chunks, start=1):
        chunks.add_row(
            str(i), f"{c.path}:{c.start_line}-{c.end_line}", c.symbol or "", f"{c.score:.4f}"
        )
    out.print(chunks)
    for reason in result.degraded:
        err_console.print(f"[yellow]degraded:[/yellow] {reason}")


def localize_command(
    text: Annotated[str, typer.Argument(help="The issue or task text (use - to read stdin).")],
    path: Annotated[Path, typer.Option("--path", help="Workspace root.")] = Path("."),
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="litellm model to try first.")
    ] = None,
    max_tool_calls: Annotated[
        int, typer.Option("--max-tool-calls", min=0, max=12, help="Tool calls the model may make.")
    ] = 6,
    focus: Annotated[
        str | None, typer.Option("--focus", help="Workspace file the task starts from.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Find the files and functions a task or issue is about: the configured model searches
    and follows definitions and references in a few tool calls; with no model (or when it
    fails) the search ranking, with a note. Brings PATH's index up to date first."""
    import sys

    from llmgenie.agents.localize import LocalizeLimits, format_localization
    from llmgenie.app.localization import localize_in
    from llmgenie.contracts.errors import InvalidRequest

    if text == "-":
        text = sys.stdin.read()
    with _engine(path) as engine:
        _ensure_indexed(engine)
        try:
            result = localize_in(
                engine,
                engine.settings,
                text,
                model=model,
                focus=focus,
                limits=LocalizeLimits(max_tool_calls=max_tool_calls),
            )
        except InvalidRequest as exc:
            err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from exc
    if as_json:
        typer.echo(result.model_dump_json())
        return
    typer.echo(format_localization(result, limit=len(result.hits)))
    used = f"model {result.model}, " if result.model else ""
    err_console.print(
        f"[dim]{used}{len(result.tool_calls)} tool call(s), {result.tokens} tokens[/dim]",
        highlight=False,
    )


def map_command(
    path: Annotated[Path, typer.Argument(help="Workspace root.")] = Path("."),
    focus: Annotated[
        str | None, typer.Option("--focus", help="A file, symbol or free text.")
    ] = None,
    tokens: Annotated[int, typer.Option("--tokens", min=16, help="Token budget.")] = 1024,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print a token-budgeted outline of the most relevant files and symbols."""
    with _engine(path) as engine:
        _ensure_indexed(engine)
        text = engine.repo_map(focus=focus, tokens=tokens)
        root = engine.root
    if as_json:
        payload = {"root": str(root), "focus": focus, "tokens": tokens, "map": text}
        typer.echo(json.dumps(payload))
        return
    typer.echo(text, nl=False)


def context_command(
    file: Annotated[Path, typer.Argument(help="A file inside the workspace.")],
    line: Annotated[int, typer.Argument(min=1, help="1-based line.")],
    path: Annotated[Path, typer.Option("--root", help="Workspace root.")] = Path("."),
) -> None:
    """What is around a line: enclosing symbol, related definitions, references (JSON)."""
    with _engine(path) as engine:
        _ensure_indexed(engine)
        context = engine.analyze_position(str(file.resolve()), line)
    typer.echo(context.model_dump_json())


def doctor_command(
    path: Annotated[Path, typer.Argument(help="Workspace root.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The whole setup: Python, config files and where each setting came from, models and
    their keys, the index and agent-data locations, what is degraded and why. Creates
    nothing (an index that does not exist yet is reported, not built)."""
    from llmgenie.app.doctor import diagnose
    from llmgenie.app.model_offer import offer_local_model
    from llmgenie.llm.client import model_chain
    from llmgenie.locations import locations_for

    root = workspace_root(path)
    settings = settings_for(root)
    chain = model_chain(settings)
    with index_errors(root, locations_for(root, settings).index_dir):
        report = diagnose(root, settings, chain)
    offer = None if chain else offer_local_model()
    if as_json:
        data = report.model_dump(mode="json")
        data["model"] = {
            "configured": chain,
            "suggested": offer.model if offer else None,
            "offer": offer.message if offer else None,
        }
        typer.echo(json.dumps(data))
        return
    typer.echo(f"llmgenie:    {report.llmgenie} on Python {report.python} ({report.platform})")
    typer.echo(f"             {report.python_executable}")
    typer.echo(f"root:        {report.root}")
    for file, exists in report.config_files.items():
        typer.echo(f"config:      {file} ({'read' if exists else 'absent'})")
    typer.echo("settings:")
    for item in report.settings:
        shown = "-" if item.value in (None, "", []) else str(item.value)
        typer.echo(f"  {item.key:<18} {shown:<34} from {item.source}")
    typer.echo(f"model:       {' → '.join(chain) if chain else 'none configured'}")
    for check in report.models:
        typer.echo(f"  {'ok ' if check.ok else 'NO '} {check.model}: key {check.key}")
    if offer is not None:
        typer.echo(f"             {offer.message}")
    state = "" if report.index_exists else " (not built yet)"
    typer.echo(f"index:       {report.index_path}{state}")
    typer.echo("             disposable: `llmgenie index --rebuild` or deleting it rebuilds it")
    typer.echo(f"agent data:  {report.agent_data_path}")
    typer.echo("             runs and the audit log: kept across reindexing; delete to forget")
    health = report.health
    if health is not None:
        typer.echo(
            f"contents:    {health.files} files, {health.symbols} symbols, {health.references}"
            f" references, {health.chunks} chunks, {health.vectors} vectors"
        )
        when = (
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(health.last_indexed_at))
            if health.last_indexed_at
            else "never"
        )
        typer.echo(f"last index:  {when}")
        provider = health.embedding_provider or "none"
        typer.echo(f"embeddings:  {provider} ({health.embedding_status})")
        stale = health.stale_files or []
        typer.echo(f"stale files: {len(stale)}")
        for name in stale[:20]:
            typer.echo(f"  {name}")
        if len(stale) > 20:
            typer.echo(f"  ... and {len(stale) - 20} more")
    if report.degraded:
        typer.echo("degraded:")
        for reason in report.degraded:
            typer.echo(f"  - {reason}")
    else:
        typer.echo("degraded:    nothing")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.command("index")(index_command)
    app.command("search")(search_command)
    app.command("localize")(localize_command)
    app.command("map")(map_command)
    app.command("context")(context_command)
    app.command("doctor")(doctor_command)
