"""The crew benchmark's scoring on canned runs (no model): what counts as usable, and why not."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.crew_model_bench import (
    DEFAULT_WORKSPACE,
    TARGETS,
    BadTargets,
    load_targets,
    main,
    markdown,
    score,
    target_problems,
)

from llmgenie.agents.workspace_view import WorkspaceView
from llmgenie.config import load_settings
from llmgenie.contracts.ids import CREW_IDS
from llmgenie.contracts.runs import (
    Finding,
    ProposedEdit,
    RunEvent,
    RunRecord,
    RunRequest,
    RunResult,
    RunStatus,
)
from llmgenie.engine import WorkspaceEngine
from tests.support.fixtures import DUMMY_API_KEY, SCRIPTED_MODEL
from tests.support.model_server import ModelServer, Reply

SHIPPED_TARGETS = sorted((Path(__file__).parents[2] / "bench" / "targets").glob("*.json"))


@pytest.fixture
def view(tmp_path: Path) -> Iterator[WorkspaceView]:
    root = tmp_path / "ws"
    shutil.copytree(DEFAULT_WORKSPACE, root)
    engine = WorkspaceEngine.open(root, load_settings(root, index={"embeddings": "none"}))
    try:
        yield WorkspaceView(root, engine)
    finally:
        engine.close()


def record(
    crew: str, result: RunResult | None, status: RunStatus = RunStatus.SUCCEEDED
) -> RunRecord:
    now = time.time()
    request = RunRequest(crew=crew, workspace="/ws")  # type: ignore[arg-type]
    return RunRecord(
        run_id="r1",
        request=request,
        status=status,
        created_at=now,
        updated_at=now,
        result=result,
        error=None if result else "model call failed: no first token within 300s",
    )


def test_every_crew_has_a_target_in_the_sample_workspace() -> None:
    assert set(TARGETS) == set(CREW_IDS)
    for target in TARGETS.values():
        if target.path is not None:
            assert (DEFAULT_WORKSPACE / target.path).is_file()


def test_an_edit_counts_only_when_it_applies_to_the_current_text(view: WorkspaceView) -> None:
    good = ProposedEdit(
        path="inventory/models.py",
        old_text="    def inventory_value_cents(self) -> int:\n",
        new_text='    def inventory_value_cents(self) -> int:\n        """Total value."""\n',
    )
    stale = ProposedEdit(path="inventory/models.py", old_text="def gone():", new_text="x")
    applied = score(record("document", RunResult(edits=[good])), [], view, TARGETS["document"])
    assert applied.usable and applied.edits_applying == 1
    missed = score(record("document", RunResult(edits=[stale])), [], view, TARGETS["document"])
    assert not missed.usable
    assert "no edit kept" in missed.why and "old_text was not found" in missed.why


def test_a_finding_counts_only_at_a_real_line(view: WorkspaceView) -> None:
    real = Finding(
        path="inventory/storage.py", start_line=21, end_line=22, rule="CWE-89", message="sql"
    )
    past = real.model_copy(update={"start_line": 400, "end_line": 400})
    assert score(
        record("security", RunResult(findings=[real])), [], view, TARGETS["security"]
    ).usable
    out = score(record("security", RunResult(findings=[past])), [], view, TARGETS["security"])
    assert not out.usable and "past the end of the file" in out.why


def test_an_explanation_must_name_the_target_symbols(view: WorkspaceView) -> None:
    named = RunResult(message="`Warehouse.reserve` raises OutOfStockError when short.")
    vague = RunResult(message="This code manages a warehouse.")
    assert score(record("chat", named), [], view, TARGETS["chat"]).usable
    out = score(record("chat", vague), [], view, TARGETS["chat"])
    assert not out.usable and "does not name reserve, OutOfStockError" in out.why


def test_a_failed_run_reports_its_error_and_first_token_time(view: WorkspaceView) -> None:
    events = [
        RunEvent(
            run_id="r1",
            kind="progress",
            message="slow",
            data={"stage": "model_first_token", "ttft_s": 31.5},
        ),
        RunEvent(
            run_id="r1",
            kind="status",
            message="1 item(s) not kept",
            data={
                "stage": "items_not_kept",
                "items": ["edit to inventory/models.py: old_text was not found"],
            },
        ),
    ]
    failed = score(record("explain", None, RunStatus.FAILED), events, view, TARGETS["explain"])
    assert not failed.usable and failed.ttft_s == 31.5
    assert failed.why == "failed: model call failed: no first token within 300s"
    kept_none = score(record("fix", RunResult(message="done")), events, view, TARGETS["fix"])
    assert "not kept: edit to inventory/models.py: old_text was not found" in kept_none.why
    table = markdown([failed, kept_none])
    assert "| explain | no |" in table and "31.5 s" in table and "Usable: 0 of 2" in table


def test_why_keeps_what_went_wrong_and_drops_the_instructions_to_the_model(
    view: WorkspaceView,
) -> None:
    feedback = (
        "Your answer needs fixing. Still missing: this task must propose at least one edit "
        "(in 'edits' or with the propose_edit tool). Not kept (send corrected versions if they "
        "matter): edit to inventory/api.py: new_text: Field required. Answer with one JSON "
        "object holding only what is missing or corrected."
    )
    retry = RunEvent(
        run_id="r1",
        kind="status",
        message="retry",
        data={"stage": "validation_failed", "error": feedback},
    )
    cut = record("refactor", None, RunStatus.CANCELLED).model_copy(
        update={"error": "cut off by the benchmark after 360s (cancelled by the user)"}
    )
    out = score(cut, [retry], view, TARGETS["refactor"])
    assert out.why == (
        "cancelled: cut off by the benchmark after 360s (cancelled by the user) — last retry: "
        "Still missing: this task must propose at least one edit. Not kept: edit to "
        "inventory/api.py: new_text: Field required."
    )


# --- real repositories: a targets file per repository, checked against the checkout -------

REPO_CODE = """\
def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value
"""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "maths.py").write_text(REPO_CODE)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "clamp")
    return root


def _targets_file(tmp_path: Path, commit: str, **explain: object) -> Path:
    spec = {"path": "pkg/maths.py", "lines": [1, 6], "expect": ["message"]}
    spec["symbols"] = ["clamp"]
    spec.update(explain)
    path = tmp_path / "targets.json"
    path.write_text(
        json.dumps({"repository": "repo", "commit": commit, "targets": {"explain": spec}})
    )
    return path


def test_the_shipped_real_repository_targets_load_and_pin_a_commit() -> None:
    assert len(SHIPPED_TARGETS) >= 2
    for path in SHIPPED_TARGETS:
        targets, about = load_targets(path)
        assert about["repository"].startswith("https://github.com/")
        assert len(about["commit"]) == 40
        assert set(targets) <= set(CREW_IDS) and len(targets) >= 5


def test_a_targets_file_is_refused_when_it_does_not_fit_the_checkout(
    repo: Path, tmp_path: Path
) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    targets, _ = load_targets(_targets_file(tmp_path, head))
    assert target_problems(targets, repo, head) == []

    assert "the targets are for 000000000000" in target_problems(targets, repo, "0" * 40)[0]
    past_end, _ = load_targets(_targets_file(tmp_path, head, lines=[1, 60]))
    assert "fewer than 60 lines" in target_problems(past_end, repo, head)[0]
    with pytest.raises(BadTargets, match="needs the symbols"):
        load_targets(_targets_file(tmp_path, head, symbols=[]))
    with pytest.raises(BadTargets, match="unknown field"):
        load_targets(_targets_file(tmp_path, head, line=3))


def test_the_benchmark_runs_a_crew_on_another_repository_from_its_targets_file(
    repo: Path, tmp_path: Path, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path of a real-model run, the model scripted: targets file, checkout,
    RunService, scoring, the JSON report naming the repository and commit."""
    for key in ("LLMGENIE_LLM__MODEL", "LLMGENIE_LLM__API_BASE", "LLMGENIE_LLM__API_KEY"):
        monkeypatch.setenv(key, "")  # main() sets them; restored after the test
    monkeypatch.setenv("LLMGENIE_LLM__API_KEY", DUMMY_API_KEY)
    model_server.script(Reply.plain(json.dumps({"message": "`clamp` bounds a value."})))
    head = _git(repo, "rev-parse", "HEAD")
    out = tmp_path / "out.json"
    argv = [
        "--model", SCRIPTED_MODEL, "--api-base", model_server.url, "--workspace", str(repo),
        "--targets", str(_targets_file(tmp_path, head)), "--json", str(out),
    ]  # fmt: skip
    assert main(argv) == 0

    report = json.loads(out.read_text())
    assert report["workspace"] == {"repository": "repo", "commit": head}
    [run] = report["runs"]
    assert (run["crew"], run["usable"], run["message_names"]) == ("explain", True, ["clamp"])
    assert report["usable"] == 1
