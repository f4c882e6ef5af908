"""Dashboards, alert rules and the KEDA trigger name only metrics the code exports, with
labels it sets and histogram buckets it has: checked against the registry, and against what
a live team server serves on /metrics after it ran a crew."""

from __future__ import annotations

import json
import time
from typing import get_args

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from llmgenie.runs.outcome import Outcome
from tests.deploy.support import (
    MATCHER_RE,
    METRIC_RE,
    RECORDING_RE,
    SELECTOR_RE,
    dashboard_exprs,
    exported_samples,
    find,
    histogram_buckets,
    render,
    rule_groups,
)
from tests.support.model_server import Reply
from tests.team.conftest import TeamServerProcess, final_answer, team_server

__all__ = ["team_server"]  # a fixture, found by pytest under this name

ALWAYS_THERE = {"job", "instance"}  # target labels Prometheus adds to every sample
OUTCOMES = set(get_args(Outcome))  # the values of the `outcome` label


def all_exprs() -> dict[str, str]:
    exprs: dict[str, str] = {}
    for group in rule_groups():
        for rule in group["rules"]:
            exprs[f"rule {rule.get('record') or rule.get('alert')}"] = rule["expr"]
    for board, board_exprs in dashboard_exprs().items():
        for number, expr in enumerate(board_exprs):
            exprs[f"{board} #{number}"] = expr
    scaled = find(render("deploy/k8s/overlays/prod"), "ScaledObject", "llmgenie-worker")
    for trigger in scaled["spec"]["triggers"]:
        if trigger["type"] == "prometheus":
            exprs["KEDA trigger"] = trigger["metadata"]["query"]
    return exprs


def problems(expr: str, samples: dict[str, set[str]], buckets: dict[str, set[str]]) -> list[str]:
    found = []
    for name in METRIC_RE.findall(expr):
        if name not in samples:
            found.append(f"{name} is not exported by server/llmgenie/observability/metrics.py")
    for name, matchers in SELECTOR_RE.findall(expr):
        for label, op, value in MATCHER_RE.findall(matchers):
            if name in samples and label not in samples[name] | ALWAYS_THERE:
                found.append(f"{name} has no label {label!r}")
            if label == "le" and value not in buckets.get(name, set()):
                found.append(f"{name} has no bucket le={value!r}")
            if label == "outcome" and op in ("=", "!=") and value not in OUTCOMES:
                found.append(f"{name}: outcome {value!r} is never set (runs/outcome.py)")
    return found


def test_the_registry_is_read() -> None:
    samples = exported_samples()
    assert "llmgenie_queue_depth" in samples
    assert "llmgenie_agent_tasks_total" in samples
    assert samples["llmgenie_agent_tasks_total"] >= {"crew", "outcome"}
    assert "0.5" in histogram_buckets()["llmgenie_api_request_duration_seconds_bucket"]


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ("rate(llmgenie_made_up_total[5m])", "llmgenie_made_up_total is not exported"),
        ('llmgenie_queue_depth{crew="x"}', "no label 'crew'"),
        ('llmgenie_agent_response_time_seconds_bucket{le="2"}', "no bucket le='2'"),
        ("llmgenie_agent_tasks", "llmgenie_agent_tasks is not exported"),  # no _total
        ('llmgenie_agent_tasks_total{outcome="ok"}', "outcome 'ok' is never set"),
    ],
)
def test_the_check_catches_mistakes(expr: str, complaint: str) -> None:
    found = problems(expr, exported_samples(), histogram_buckets())
    assert any(complaint in p for p in found), found


def test_every_referenced_metric_is_exported() -> None:
    samples, buckets = exported_samples(), histogram_buckets()
    exprs = all_exprs()
    assert len(exprs) > 40
    found = [
        f"{where}: {p}" for where, expr in exprs.items() for p in problems(expr, samples, buckets)
    ]
    assert not found, "\n".join(found)


BOUNDED_LABELS = {
    "outcome": "runs/outcome.py's few values",
    "crew": "the crew catalog",
    "agent": '"crew" or one of the specialist roles',
    "step": "the smart wrapper's steps",
    "model": "the configured model chain",
    "kind": "prompt or completion",
    "method": "LSP methods the server handles; HTTP methods, else other",
    "route": "route templates, never paths",
    "status": "HTTP status codes",
    "verdict": "ids.FEEDBACK_VERDICTS: helpful or unhelpful (validated before counting)",
}


def test_no_metric_has_an_unbounded_label() -> None:
    """No user, path, file or run id as a label: a new label is argued for here first."""
    for name, labels in exported_samples().items():
        assert labels - {"le"} <= set(BOUNDED_LABELS), f"{name}: {labels - set(BOUNDED_LABELS)}"


def test_every_recording_rule_used_is_defined() -> None:
    recorded = {r["record"] for g in rule_groups() for r in g["rules"] if "record" in r}
    used = {name for expr in all_exprs().values() for name in RECORDING_RE.findall(expr)}
    assert used, "no recording rule is used"
    assert used <= recorded, used - recorded


def test_the_issue_s_signals_are_covered() -> None:
    """Issue 11 names these; each must appear in the rules and on a dashboard."""
    rules = " ".join(r["expr"] for g in rule_groups() for r in g["rules"])
    boards = " ".join(e for exprs in dashboard_exprs().values() for e in exprs)
    for metric in (
        "llmgenie_api_request_duration_seconds",
        "llmgenie_agent_response_time_seconds",
        "llmgenie_agent_tasks_total",
        "llmgenie_queue_depth",
        "llmgenie_lease_expiries_total",
        "llmgenie_workers",
    ):
        assert metric in rules, metric
        assert metric in boards, metric
    for metric in (
        "llmgenie_websocket_sessions",
        "llmgenie_active_runs",
        "llmgenie_llm_tokens_total",
        "llmgenie_llm_cost_usd_total",
    ):
        assert metric in boards, metric


def scraped(text: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Sample names with their label names, and each histogram's `le` values, from a
    /metrics page. A family with no sample yet (a labelled counter never incremented)
    still has its TYPE line: its names count as exported, its labels are unknown."""
    suffixes = {
        "counter": ["_total", "_created"],
        "histogram": ["_bucket", "_sum", "_count", "_created"],
        "gauge": [""],
        "summary": ["", "_sum", "_count", "_created"],
    }
    samples: dict[str, set[str]] = {}
    buckets: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for suffix in suffixes.get(family.type, [""]):
            samples.setdefault(family.name + suffix, set())
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
            if sample.name.endswith("_bucket"):
                buckets.setdefault(sample.name, set()).add(sample.labels["le"])
    return samples, buckets


def _one_run(server: TeamServerProcess) -> str:
    """Run the explain crew once on the server (in process: no broker) until it ends, and
    rate its answer as a user would (the chat's thumbs: the feedback family's samples)."""
    server.model.default_reply = Reply.plain(final_answer("explained"))
    try:
        with server.api() as api:
            submitted = api.post(
                f"/teams/{server.team_id}/runs",
                json={"crew": "explain", "path": "m.py", "files": {"m.py": "x = 1\n"}},
            )
            assert submitted.status_code == 202, submitted.text
            run_id = submitted.json()["run_id"]
            deadline = time.monotonic() + 120
            while True:
                status = api.get(f"/teams/{server.team_id}/runs/{run_id}").json()["status"]
                if status in ("succeeded", "failed", "cancelled"):
                    rated = api.post(
                        f"/teams/{server.team_id}/runs/{run_id}/feedback",
                        json={"verdict": "helpful"},
                    )
                    assert rated.status_code == 200, rated.text
                    return str(status)
                assert time.monotonic() < deadline, server.logs()[-3000:]
                time.sleep(0.2)
    finally:
        server.model.default_reply = None


@pytest.mark.integration
def test_a_live_team_server_exports_every_referenced_metric(
    team_server: TeamServerProcess,
) -> None:
    """The server's registry holds every family (a worker's is the same less the pool's
    gauges), so one server that ran a crew shows every name the rules and boards use."""
    assert _one_run(team_server) == "succeeded"
    # A method the HTTP parser knows and the API does not use: counted as "other".
    odd = httpx.request("PROPFIND", f"{team_server.url}/api/v1/teams/{team_server.team_id}/runs/x")
    assert odd.status_code >= 400, (odd.status_code, odd.text)
    page = httpx.get(team_server.url + "/metrics", timeout=10)
    assert page.status_code == 200
    samples, buckets = scraped(page.text)
    # Bounded label values: route templates, not the team's or a run's id; no odd method.
    values = {
        (sample.name, label, value)
        for family in text_string_to_metric_families(page.text)
        if family.name.startswith("llmgenie_")
        for sample in family.samples
        for label, value in sample.labels.items()
    }
    routes = {v for _, label, v in values if label == "route"}
    assert "/api/v1/teams/{team_id}/runs/{run_id}" in routes, routes
    assert not [v for v in values if team_server.team_id in v[2]], "an id as a label value"
    api = "llmgenie_api_request_duration_seconds"
    methods = {v for name, label, v in values if name.startswith(api) and label == "method"}
    assert "other" in methods and methods <= {"GET", "POST", "other"}, methods
    # The run and the scrape itself put samples (with their labels) behind these names.
    for name in (
        "llmgenie_agent_tasks_total",
        "llmgenie_agent_response_time_seconds_bucket",
        "llmgenie_api_request_duration_seconds_bucket",
        "llmgenie_llm_tokens_total",
    ):
        assert samples.get(name), f"{name} has no sample after a run"
    found = [
        f"{where}: {p} (live)"
        for where, expr in all_exprs().items()
        for p in problems(expr, samples, buckets)
    ]
    assert not found, "\n".join(found)


def _gauge(server: TeamServerProcess, name: str) -> float:
    page = httpx.get(server.url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} is not on /metrics")


@pytest.mark.integration
def test_websocket_connections_are_counted_while_open(team_server: TeamServerProcess) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    before = _gauge(team_server, "llmgenie_websocket_sessions")
    with connect(
        team_server.ws_url,
        additional_headers={"Authorization": "Bearer " + team_server.admin_token},
        open_timeout=30,
    ) as ws:
        ws.send(json.dumps(hello))
        assert "result" in json.loads(ws.recv(timeout=30))
        assert _gauge(team_server, "llmgenie_websocket_sessions") == before + 1
    deadline = time.monotonic() + 30  # the server notices the close on its own time
    while _gauge(team_server, "llmgenie_websocket_sessions") != before:
        assert time.monotonic() < deadline, "the closed connection is still counted"
        time.sleep(0.1)
