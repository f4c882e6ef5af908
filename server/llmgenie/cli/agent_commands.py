"""`llmgenie run`, `llmgenie runs` and `llmgenie audit`: the agent runtime from the CLI.

`run` drives the same RunService the language server uses: live progress (wrapper steps,
tool calls, streamed text) goes to stderr, the result to stdout (the RunRecord as JSON with
--json). Exit codes: 0 succeeded, 1 failed, 2 bad usage or no model configured,
130 cancelled (Ctrl-C cancels the run, including its in-flight model call).

`audit verify [PATH]` re-computes the audit log's hash chain for the workspace at PATH and
compares its end with the anchor kept beside it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llmgenie.cli.common import err_console, index_errors, settings_for, workspace_root
from llmgenie.contracts.ids import CREW_IDS
from llmgenie.contracts.runs import LineRange, RunRecord, RunRequest, RunStatus

if TYPE_CHECKING:
    from llmgenie.contracts.runs import RunEvent

_HERE = Path(".")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:[:-]\s*(\d+)\s*)?$")

audit_app = typer.Typer(help="Inspect and verify the agent audit log.", no_args_is_help=True)


def parse_range(text: str) -> LineRange:
    """`L1:L2` (or `L1-L2`, or a single line `L`) as a 1-based inclusive LineRange."""
    match = _RANGE.match(text)
    if not match:
        raise typer.BadParameter(f"expected L1:L2 (1-based lines), got {text!r}")
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if start < 1 or end < start:
        raise typer.BadParameter(f"invalid line range {text!r}: need 1 <= L1 <= L2")
    return LineRange(start_line=start, end_line=end)


class _LiveProgress:
    """Prints run events to stderr as they arrive: steps, tools, streamed text."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.streaming = False

    def __call__(self, event: RunEvent) -> None:
        if self.quiet:
            return
        if event.kind == "delta":
            err_console.out(event.message, end="", highlight=False)
            self.streaming = True
            return
        if self.streaming:
            err_console.out("")
            self.streaming = False
        if event.kind == "status":
            err_console.print(f"[dim]• {event.message}[/dim]", highlight=False)
        elif event.kind == "tool":
            err_console.print(f"[cyan]→ {event.message}[/cyan]", highlight=False)
        elif event.kind == "progress":
            err_console.print(f"[dim]… {event.message}[/dim]", highlight=False)


def _print_human(record: RunRecord) -> None:
    """The result for people: message, edits, findings, and who answered at what cost."""
    result = record.result
    if result is None:
        return
    if result.message:
        typer.echo(result.message.rstrip())
    for edit in result.edits:
        typer.echo(
            f"\n--- proposed edit: {edit.path}"
            + (f" ({edit.description})" if edit.description else "")
        )
        for line in edit.old_text.splitlines():
            typer.echo(f"- {line}")
        for line in edit.new_text.splitlines():
            typer.echo(f"+ {line}")
    for finding in result.findings:
        typer.echo(
            f"{finding.path}:{finding.start_line}: {finding.severity} [{finding.rule}] "
            f"{finding.message}" + (f"\n    fix: {finding.fix}" if finding.fix else "")
        )
    err_console.print(
        f"[dim]model {result.model or '?'} · {result.tokens} tokens · ${result.cost_usd:.4f}[/dim]"
    )


def run_command(
    crew: Annotated[str, typer.Argument(help=f"One of: {', '.join(CREW_IDS)}.")],
    path: Annotated[Path, typer.Argument(help="Workspace root.")] = _HERE,
    file: Annotated[
        str | None, typer.Option("--file", "-f", help="File (relative to PATH) to work on.")
    ] = None,
    line_range: Annotated[
        str | None, typer.Option("--range", "-r", help="Lines L1:L2 (1-based, inclusive).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="litellm model to try first.")
    ] = None,
    prompt: Annotated[
        str, typer.Option("--prompt", "-p", help="What to ask (chat, review...).")
    ] = "",
    diagnostic: Annotated[
        str | None, typer.Option("--diagnostic", help="Diagnostic message (for the fix crew).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the RunRecord as JSON.")] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Treat the workspace as untrusted: read-only tools.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
) -> None:
    """Run a crew on a workspace (optionally a file and a line range)."""
    if crew not in CREW_IDS:
        err_console.print(
            f"[red]error:[/red] unknown crew {crew!r}; choose one of: {', '.join(CREW_IDS)}"
        )
        raise typer.Exit(2)
    rng = parse_range(line_range) if line_range else None
    if rng is not None and not file:
        err_console.print("[red]error:[/red] --range needs --file")
        raise typer.Exit(2)
    from llmgenie.observability.tracing import configure_tracing

    configure_tracing("llmgenie-cli")  # before CrewAI loads (it switches the SDK off)
    root = workspace_root(path)
    if file and not (root / file).is_file():
        err_console.print(f"[red]error:[/red] no such file in {root}: {file}")
        raise typer.Exit(2)
    settings = settings_for(root)

    from llmgenie.contracts.errors import NoModelConfigured
    from llmgenie.engine import WorkspaceEngine
    from llmgenie.locations import locations_for
    from llmgenie.runs.service import RunService

    request = RunRequest(
        crew=crew,  # validated against CREW_IDS above
        workspace=str(root),
        path=file,
        range=rng,
        prompt=prompt,
        diagnostic=diagnostic,
        model=model,
    )
    index_dir = locations_for(root, settings).index_dir
    try:
        with index_errors(root, index_dir):
            engine = WorkspaceEngine.open(root, settings)
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] cannot open the index for {root}: {exc}")
        raise typer.Exit(1) from exc
    service: RunService | None = None
    try:
        with index_errors(root, index_dir):
            summary = engine.index()  # incremental: only changed files are re-read
        if not quiet:
            err_console.print(
                f"[dim]• indexed {summary.files} files in {summary.seconds:.2f}s[/dim]"
            )
        service = RunService(settings, engine)
        try:
            handle = service.start(request, _LiveProgress(quiet), trusted=not read_only)
        except NoModelConfigured as exc:
            from llmgenie.app.model_offer import offer_local_model

            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            offer = offer_local_model()
            if offer is not None:
                err_console.print(offer.message, highlight=False)
            raise typer.Exit(2) from exc
        try:
            record = handle.wait()
        except KeyboardInterrupt:
            err_console.print("\n[yellow]cancelling…[/yellow]")
            handle.cancel()
            record = handle.wait(30)
    finally:
        if service is not None:
            service.close()
        engine.close()
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
    else:
        _print_human(record)
    if record.status is RunStatus.SUCCEEDED:
        return
    if record.status is RunStatus.CANCELLED:
        err_console.print("[yellow]run cancelled[/yellow]")
        raise typer.Exit(130)
    err_console.print(f"[red]run failed:[/red] {record.error}")
    raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(
    path: Annotated[
        Path, typer.Argument(help="Workspace root (default: current directory).")
    ] = _HERE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the audit log's hash chain and its anchor; exit 1 saying what was tampered
    with (a changed record, missing records, a rewritten chain, a deleted store)."""
    root = workspace_root(path)
    settings = settings_for(root)
    from llmgenie.locations import locations_for
    from llmgenie.store.store import AgentStore

    location = locations_for(root, settings).agent_store
    report = AgentStore.verify(root, settings)
    if as_json:
        typer.echo(json.dumps({**report.model_dump(), "store": str(location)}))
        if not report.ok:
            raise typer.Exit(1)
        return
    for note in report.notes:
        err_console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True, highlight=False)
    if report.ok:
        anchored = "; the anchor matches" if report.anchored is not None else ""
        typer.echo(f"audit chain OK ({report.records} records{anchored})")
    elif report.first_bad_seq is not None:
        typer.echo(f"audit chain BROKEN at record {report.first_bad_seq}: {report.reason}")
    else:
        typer.echo(f"audit chain BROKEN: {report.reason}")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    path: Annotated[
        Path, typer.Argument(help="Workspace root (default: current directory).")
    ] = _HERE,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's records.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the last N records.")] = 50,
) -> None:
    """Print audit records (JSON lines, oldest first)."""
    root = workspace_root(path)
    settings = settings_for(root)
    from llmgenie.store.store import AgentStore

    store = AgentStore.existing(root, settings)
    if store is None:
        return
    try:
        records = list(store.audit.records(run_id))
    finally:
        store.close()
    for record in records[-limit:]:
        typer.echo(record.model_dump_json())


def runs_command(
    path: Annotated[
        Path, typer.Argument(help="Workspace root (default: current directory).")
    ] = _HERE,
    run_id: Annotated[
        str | None, typer.Option("--id", help="Show this run in full (its RunRecord).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Past runs of a workspace, newest first: crew, status, time, cost."""
    root = workspace_root(path)
    settings = settings_for(root)
    from llmgenie.store.store import AgentStore

    store = AgentStore.existing(root, settings)
    try:
        if run_id is not None:
            record = store.runs.get(run_id) if store is not None else None
            if record is None:
                err_console.print(f"[red]error:[/red] no run {run_id} in {root}")
                raise typer.Exit(1)
            typer.echo(record.model_dump_json(indent=2))
            return
        records = store.runs.recent(limit) if store is not None else []
    finally:
        if store is not None:
            store.close()
    if as_json:
        typer.echo(json.dumps([_run_row(r) for r in records]))
        return
    if not records:
        typer.echo("no runs yet")
        return
    for r in records:
        row = _run_row(r)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        target = f" {row['path']}" if row["path"] else ""
        traced = f"  trace {r.trace_id}" if r.trace_id else ""
        typer.echo(
            f"{when}  {r.run_id[:12]}  {row['crew']:<11} {r.status.value:<9}"
            f" ${row['cost_usd']:.4f}{target}{traced}" + (f"  ({r.error})" if r.error else "")
        )


def _run_row(record: RunRecord) -> dict[str, object]:
    """One run as `llmgenie runs --json` lists it (stable keys, documented in README)."""
    result = record.result
    return {
        "run_id": record.run_id,
        "crew": record.request.crew,
        "path": record.request.path,
        "status": record.status.value,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "seconds": round(record.updated_at - record.created_at, 3),
        "model": result.model if result else None,
        "tokens": result.tokens if result else 0,
        "cost_usd": result.cost_usd if result else 0.0,
        "error": record.error,
        "trace_id": record.trace_id,
    }


def register(app: typer.Typer) -> None:
    """Add `run`, `runs` and the `audit` group to `app`."""
    app.command("run")(run_command)
    app.command("runs")(runs_command)
    app.add_typer(audit_app, name="audit")
