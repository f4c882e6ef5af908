"""Every crew against a real model: is the result usable, and what did it cost?

```sh
# a local GGUF, served by llmgenie's own llama.cpp supervisor (`llmgenie model serve`)
python -m bench.crew_model_bench --serve ~/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
    --json out.json
# any OpenAI-compatible endpoint
python -m bench.crew_model_bench --api-base http://127.0.0.1:8080/v1 --model openai/my-model
# a hosted model through litellm (the key in the provider's usual variable)
OPENAI_API_KEY=... python -m bench.crew_model_bench --model openai/gpt-4o-mini
```

Each crew runs on a copy of the workspace (default: examples/sample-workspace), exactly as
`llmgenie run` runs it (settings, `WorkspaceEngine.open` + `index()`, `RunService.start`),
on the target listed for it in TARGETS. A run is *usable* when it produced what the crew is
for: an edit that applies to the current text (re-checked with the agents' own strict
`check_edit`), a finding at a real line of a real file (`check_finding`), or a message that
names the target's symbols. Recorded per run: prompt/completion tokens, time to first token
of the first model call, total time, the outcome, and for unusable runs why (the run's
error, its "not kept" items, its last validation failure). A run longer than
`--run-timeout` is cancelled. Options: `--crews a,b`, `--repeat N`, `--tool-protocol`,
`--json-mode` (the `LLMGENIE_MODEL_*` knobs), `--workspace DIR --targets FILE` (a real
repository checked out at the commit its targets file names, see bench/targets/), `--json OUT`,
`--no-extra-bufts` (serve without llama.cpp's repacking buffers: its AMX kernels crash where
the CPU reports AMX but the sandbox does not grant it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.machine import describe
from llmgenie.agents.results import InvalidReport, ReportPolicy, check_edit, check_finding
from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.contracts.ids import CREW_IDS
from llmgenie.contracts.runs import (
    LineRange,
    ProposedEdit,
    RunEvent,
    RunRecord,
    RunRequest,
    RunStatus,
)
from llmgenie.engine import WorkspaceEngine

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WORKSPACE = REPO / "examples" / "sample-workspace"


@dataclass(frozen=True)
class Target:
    """What a crew is asked to work on, and what makes its result usable."""

    path: str | None
    lines: tuple[int, int] | None
    expect: tuple[str, ...]
    """Any of "edit", "finding", "message": one usable kind is enough."""
    symbols: tuple[str, ...] = ()
    """A message counts when it names every one of these."""
    prompt: str = ""
    diagnostic: str | None = None


# One table of targets (examples/sample-workspace): every crew of CREW_IDS has one.
TARGETS: dict[str, Target] = {
    "explain": Target("inventory/models.py", (35, 41), ("message",), ("reserve",)),
    "document": Target("inventory/models.py", (43, 47), ("edit",)),
    "tests": Target("inventory/api.py", (10, 21), ("edit",)),
    "refactor": Target("inventory/models.py", (43, 47), ("edit",)),
    "fix": Target(
        "inventory/models.py",
        (35, 41),
        ("edit",),
        diagnostic=(
            "test_reserve_rejects_negative_quantity failed: Warehouse().reserve('A1', -5) "
            "returned an item with quantity 15 instead of raising ValueError "
            "(a negative or zero quantity must be refused)"
        ),
    ),
    "security": Target("inventory/storage.py", None, ("finding",)),
    "performance": Target("inventory/models.py", None, ("finding", "edit")),
    "devops": Target(None, None, ("edit", "finding")),
    "review": Target(
        "inventory/api.py",
        (10, 21),
        ("message", "finding", "edit"),
        ("handle_reserve",),
        prompt="Review handle_reserve: is the validation complete, and what would you change?",
    ),
    "chat": Target(
        "inventory/models.py",
        (35, 41),
        ("message",),
        ("reserve", "OutOfStockError"),
        prompt="What does Warehouse.reserve do when there is not enough stock?",
    ),
}


@dataclass
class Outcome:
    """One crew run, scored."""

    crew: str
    status: str
    usable: bool
    why: str = ""
    edits_applying: int = 0
    findings_real: int = 0
    message_names: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float | None = None
    total_s: float = 0.0
    slow_calls: int = 0
    """Model calls whose first token took over 2 s (the ones that report it)."""
    excerpt: str = ""
    """The start of the run's message, to see what an unusable answer said."""


def edits_that_apply(view: WorkspaceView, edits: list[ProposedEdit]) -> tuple[int, list[str]]:
    """How many edits apply to the current text (in order, no overlaps), and the problems."""
    kept: list[ProposedEdit] = []
    problems: list[str] = []
    for edit in edits:
        try:
            kept.append(check_edit(view, edit, kept))
        except InvalidReport as exc:
            problems.append(str(exc))
    return len(kept), problems


def score(
    record: RunRecord, events: list[RunEvent], view: WorkspaceView, target: Target
) -> Outcome:
    """Score one finished run against its target (edits and findings re-checked here)."""
    out = Outcome(crew=record.request.crew, status=record.status.value, usable=False)
    result = record.result
    reasons: list[str] = []
    if result is not None:
        applying, problems = edits_that_apply(view, result.edits)
        out.edits_applying = applying
        reasons += problems
        for finding in result.findings:
            try:
                check_finding(view, finding, ReportPolicy())
                out.findings_real += 1
            except InvalidReport as exc:
                reasons.append(str(exc))
        out.excerpt = " ".join(result.message.split())[:300]
        lowered = result.message.lower()
        out.message_names = [s for s in target.symbols if s.lower() in lowered]
    named = bool(target.symbols) and len(out.message_names) == len(target.symbols)
    good = {
        "edit": out.edits_applying > 0,
        "finding": out.findings_real > 0,
        "message": named,
    }
    out.usable = record.status is RunStatus.SUCCEEDED and any(good[k] for k in target.expect)
    out.ttft_s = first_token_s(events)
    if not out.usable:
        out.why = why_unusable(record, events, target, out, reasons)
    return out


def first_token_s(events: list[RunEvent]) -> float | None:
    """Time to first token of the run's first model call (emitted when it was slow)."""
    for event in events:
        if event.data.get("stage") == "model_first_token":
            return float(event.data["ttft_s"])
    return None


def why_unusable(
    record: RunRecord, events: list[RunEvent], target: Target, out: Outcome, reasons: list[str]
) -> str:
    """The most telling reason a run gave nothing usable, from its record and events."""
    if record.status is not RunStatus.SUCCEEDED:
        text = f"{record.status.value}: {condensed(record.error or '?')}"
        retries = [e for e in events if e.data.get("stage") == "validation_failed"]
        if retries and str(retries[-1].data.get("error", "")) not in (record.error or ""):
            text += " — last retry: " + condensed(str(retries[-1].data.get("error", "")))
        return text
    notes: list[str] = []
    for event in events:
        if event.data.get("stage") == "items_not_kept":
            notes += [str(item) for item in event.data.get("items", [])]
    notes += [r for r in reasons if r not in notes]
    missing: list[str] = []
    if "message" in target.expect and target.symbols:
        absent = [s for s in target.symbols if s not in out.message_names]
        if absent:
            missing.append(f"message does not name {', '.join(absent)}")
    wanted = [k for k in target.expect if k != "message"]
    if wanted:
        missing.append(f"no {' or '.join(wanted)} kept")
    text = "; ".join(missing)
    if notes:
        text += " — not kept: " + " | ".join(notes[:3])
    else:
        failures = [e for e in events if e.data.get("stage") == "validation_failed"]
        if failures:
            text += " — last retry: " + condensed(str(failures[-1].data.get("error", "")))
    return text


# The instructions in the agents' retry feedback, which say nothing about what went wrong.
_BOILERPLATE = (
    "Your answer needs fixing. ",
    "Do not repeat them. ",
    " Answer with one JSON object holding only what is missing or corrected.",
    " (send corrected versions if they matter)",
    " (in 'edits' or with the propose_edit tool)",
)


def condensed(feedback: str, limit: int = 400) -> str:
    """A retry feedback or run error without its instructions to the model, shortened."""
    for phrase in _BOILERPLATE:
        feedback = feedback.replace(phrase, " ")
    text = " ".join(feedback.split()).replace(" .", ".").replace(" :", ":")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def token_counts() -> tuple[int, int]:
    """(prompt, completion) tokens counted so far by the model client in this process."""
    from llmgenie.observability.metrics import LLM_TOKENS

    prompt = completion = 0
    for metric in LLM_TOKENS.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            if sample.labels.get("kind") == "prompt":
                prompt += int(sample.value)
            elif sample.labels.get("kind") == "completion":
                completion += int(sample.value)
    return prompt, completion


assert set(TARGETS) == set(CREW_IDS), "every crew needs a target"

_TARGET_KEYS = {"path", "lines", "expect", "symbols", "prompt", "diagnostic"}
_EXPECT = {"edit", "finding", "message"}


class BadTargets(ValueError):
    """A targets file that cannot be used: says what is wrong with which crew."""


def load_targets(path: Path) -> tuple[dict[str, Target], dict[str, str]]:
    """(targets by crew, the file's other top-level fields) from a targets file: the same
    table as TARGETS for another workspace, a real repository at a known commit.

    ```json
    {"repository": "https://github.com/OWNER/NAME", "commit": "SHA",
     "targets": {"explain": {"path": "pkg/mod.py", "lines": [10, 30], "expect": ["message"],
                             "symbols": ["func"]}}}
    ```
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadTargets(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise BadTargets(f"{path}: expected an object with a 'targets' object")
    targets: dict[str, Target] = {}
    for crew, spec in data["targets"].items():
        if crew not in CREW_IDS:
            raise BadTargets(f"{path}: unknown crew {crew!r}; known: {', '.join(CREW_IDS)}")
        if not isinstance(spec, dict) or set(spec) - _TARGET_KEYS:
            extra = sorted(set(spec) - _TARGET_KEYS) if isinstance(spec, dict) else spec
            raise BadTargets(f"{path}: {crew}: unknown field(s) {extra}")
        expect = tuple(spec.get("expect") or ())
        if not expect or set(expect) - _EXPECT:
            raise BadTargets(f"{path}: {crew}: expect must be some of {sorted(_EXPECT)}")
        symbols = tuple(spec.get("symbols") or ())
        if "message" in expect and not symbols:
            raise BadTargets(f"{path}: {crew}: a message target needs the symbols it must name")
        lines = spec.get("lines")
        if lines is not None and (
            len(lines) != 2
            or not all(isinstance(n, int) and n >= 1 for n in lines)
            or lines[0] > lines[1]
        ):
            raise BadTargets(f"{path}: {crew}: lines must be [first, last], 1-based")
        targets[crew] = Target(
            path=spec.get("path"),
            lines=(lines[0], lines[1]) if lines else None,
            expect=expect,
            symbols=symbols,
            prompt=str(spec.get("prompt") or ""),
            diagnostic=spec.get("diagnostic"),
        )
    about = {k: str(v) for k, v in data.items() if k != "targets"}
    return targets, about


def checked_out_commit(workspace: Path) -> str | None:
    """The commit a git checkout is at, or None (not a checkout, or no git)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def target_problems(
    targets: dict[str, Target], workspace: Path, commit: str | None = None
) -> list[str]:
    """What does not match `workspace`: another commit than the targets' (their lines would
    point elsewhere), a target file missing, or lines past its end."""
    problems: list[str] = []
    if commit:
        head = checked_out_commit(workspace)
        if head is not None and not head.startswith(commit):
            problems.append(f"{workspace} is at {head[:12]}, the targets are for {commit[:12]}")
    for crew, target in targets.items():
        if target.path is None:
            continue
        file = workspace / target.path
        if not file.is_file():
            problems.append(f"{crew}: {target.path} is not a file of {workspace}")
        elif target.lines and target.lines[1] > len(file.read_text(errors="replace").splitlines()):
            problems.append(f"{crew}: {target.path} has fewer than {target.lines[1]} lines")
    return problems


def run_crew(root: Path, crew: str, target: Target, model: str, timeout_s: float) -> Outcome:
    """One crew run as `llmgenie run` does it: settings, engine + index, RunService."""
    from llmgenie.config import load_settings
    from llmgenie.runs.service import RunService

    settings = load_settings(root)
    rng = LineRange(start_line=target.lines[0], end_line=target.lines[1]) if target.lines else None
    request = RunRequest(
        crew=crew,  # type: ignore[arg-type]  # one of CREW_IDS
        workspace=str(root),
        path=target.path,
        range=rng,
        prompt=target.prompt,
        diagnostic=target.diagnostic,
        model=model,
    )
    events: list[RunEvent] = []
    lock = threading.Lock()

    def on_event(event: RunEvent) -> None:
        with lock:
            events.append(event)
        if event.kind in ("status", "progress", "error"):
            print(f"    [{crew}] {event.message[:160]}", file=sys.stderr, flush=True)

    engine = WorkspaceEngine.open(root, settings)
    service: RunService | None = None
    before = token_counts()
    started = time.monotonic()
    try:
        engine.index()
        service = RunService(settings, engine)
        handle = service.start(request, on_event)
        try:
            record = handle.wait(timeout_s)
        except TimeoutError:
            handle.cancel()
            record = handle.wait(60)
            record = record.model_copy(
                update={"error": f"cut off by the benchmark after {timeout_s:g}s ({record.error})"}
            )
        total = time.monotonic() - started
        with lock:
            seen = list(events)
        outcome = score(record, seen, WorkspaceView(root, engine), target)
    finally:
        if service is not None:
            service.close()
        engine.close()
    after = token_counts()
    outcome.prompt_tokens = after[0] - before[0]
    outcome.completion_tokens = after[1] - before[1]
    outcome.total_s = round(total, 1)
    outcome.slow_calls = sum(1 for e in seen if e.data.get("stage") == "model_first_token")
    return outcome


# llama.cpp's AMX kernels fault (ldtilecfg, SIGSEGV in the first decode) on CPUs that report
# AMX where the kernel or hypervisor does not grant tile state: serve without the extra
# (repacking) buffer types, which is where the AMX path lives.
_NO_EXTRA_BUFTS = (
    "import runpy, sys, llama_cpp.llama_cpp as c\n"
    "_d = c.llama_model_default_params\n"
    "def _p():\n"
    "    p = _d()\n"
    "    p.use_extra_bufts = False\n"
    "    return p\n"
    "c.llama_model_default_params = _p\n"
    "sys.argv[0] = 'llama_cpp.server'\n"
    "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n"
)


@contextmanager
def served(gguf: Path | None, context: int, no_extra_bufts: bool) -> Iterator[str | None]:
    """Start llmgenie's llama.cpp supervisor for `gguf` (stopped at the end); yield api_base."""
    if gguf is None:
        yield None
        return
    from llmgenie.llm.llama_server import LlamaServer

    server = LlamaServer.for_model(gguf.resolve(), context=context)
    if no_extra_bufts:
        at = server.command.index("-m")
        server.command[at : at + 2] = ["-c", _NO_EXTRA_BUFTS]
    print(f"loading {gguf.name}…", file=sys.stderr, flush=True)
    server.start()
    watcher = threading.Thread(target=server.supervise, daemon=True)
    watcher.start()
    try:
        yield server.api_base
    finally:
        server.stop()


def markdown(outcomes: list[Outcome]) -> str:
    """The per-run table published in docs/benchmarks_agents.md."""
    rows = [
        "| crew | usable | prompt / completion tokens | ttft | total | outcome, and why not |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        ttft = f"{o.ttft_s:.1f} s" if o.ttft_s is not None else "< 2 s"
        got = []
        if o.edits_applying:
            got.append(f"{o.edits_applying} edit(s) apply")
        if o.findings_real:
            got.append(f"{o.findings_real} finding(s) at real lines")
        if o.message_names:
            got.append("names " + ", ".join(o.message_names))
        what = "; ".join(got) or o.status
        if o.why:
            what = o.why if o.why.startswith(o.status) else f"{what} — {o.why}"
        what = what.replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| {o.crew} | {'yes' if o.usable else 'no'} | {o.prompt_tokens} / "
            f"{o.completion_tokens} | {ttft} | {o.total_s:.0f} s | {what} |"
        )
    usable = sum(o.usable for o in outcomes)
    rows.append(f"\nUsable: {usable} of {len(outcomes)} runs.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--serve", type=Path, help="a GGUF file to serve with llama.cpp")
    parser.add_argument("--context", type=int, default=8192, help="served context window")
    parser.add_argument(
        "--no-extra-bufts",
        action="store_true",
        help="serve without llama.cpp's repacking buffers (AMX CPUs that fault in decode)",
    )
    parser.add_argument("--api-base", help="an OpenAI-compatible base URL")
    parser.add_argument("--model", help="litellm model (default with --serve: openai/STEM)")
    parser.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE)
    parser.add_argument(
        "--targets",
        type=Path,
        help="a targets file for --workspace (a real repository; see bench/targets/)",
    )
    parser.add_argument("--crews", help="comma-separated (default: every crew with a target)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tool-protocol", choices=("auto", "native", "text"))
    parser.add_argument("--json-mode", choices=("auto", "on", "off"))
    parser.add_argument("--run-timeout", type=float, default=360.0, help="seconds per run")
    parser.add_argument("--json", type=Path, help="write the JSON report here")
    args = parser.parse_args(args_list)
    targets, about = dict(TARGETS), {"repository": "examples/sample-workspace"}
    if args.targets is not None:
        if args.workspace == DEFAULT_WORKSPACE:
            parser.error("--targets needs --workspace: the checkout the targets are for")
        try:
            targets, about = load_targets(args.targets)
        except BadTargets as exc:
            parser.error(str(exc))
    problems = target_problems(targets, args.workspace, about.get("commit"))
    if problems:
        parser.error("targets not in the workspace: " + "; ".join(problems))
    crews = [c.strip() for c in (args.crews or ",".join(targets)).split(",") if c.strip()]
    unknown = [c for c in crews if c not in targets]
    if unknown:
        parser.error(f"no target for crew(s) {unknown}; with targets: {', '.join(targets)}")
    if args.serve is None and not args.model:
        parser.error("give --serve GGUF, or --model (and --api-base for a custom endpoint)")
    model = args.model or f"openai/{args.serve.stem}"
    if args.tool_protocol:
        os.environ["LLMGENIE_MODEL_TOOL_PROTOCOL"] = args.tool_protocol
    if args.json_mode:
        os.environ["LLMGENIE_MODEL_JSON_MODE"] = args.json_mode
    os.environ["LLMGENIE_LLM__MODEL"] = model
    from bench.machine import quiet_engine_logs

    quiet_engine_logs()
    outcomes: list[Outcome] = []
    with (
        served(args.serve, args.context, args.no_extra_bufts) as base,
        tempfile.TemporaryDirectory() as tmp,
    ):
        api_base = base or args.api_base
        if api_base:
            os.environ["LLMGENIE_LLM__API_BASE"] = api_base
            os.environ.setdefault("LLMGENIE_LLM__API_KEY", "sk-local")
        for crew in crews:
            for n in range(args.repeat):
                root = Path(tmp) / f"{crew}-{n}"
                shutil.copytree(args.workspace, root, ignore=shutil.ignore_patterns(".git"))
                print(f"{crew} (run {n + 1}/{args.repeat})", file=sys.stderr, flush=True)
                outcome = run_crew(root.resolve(), crew, targets[crew], model, args.run_timeout)
                print(f"  → {json.dumps(asdict(outcome))}", file=sys.stderr, flush=True)
                outcomes.append(outcome)
    report = {
        **describe("bench.crew_model_bench", args_list),
        "model": model,
        "api_base": "llama.cpp (--serve)" if args.serve else args.api_base,
        "options": {
            "tool_protocol": args.tool_protocol or "auto",
            "json_mode": args.json_mode or "auto",
            "repeat": args.repeat,
            "run_timeout_s": args.run_timeout,
            "workspace": args.workspace.name,
            "no_extra_bufts": args.no_extra_bufts,
        },
        "workspace": about,
        "targets": {c: asdict(targets[c]) for c in crews},
        "runs": [asdict(o) for o in outcomes],
        "usable": sum(o.usable for o in outcomes),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(markdown(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
