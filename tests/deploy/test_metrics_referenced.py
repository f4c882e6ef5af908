"""Dashboards, alert rules and the KEDA trigger name only metrics the code exports, with
labels it sets and histogram buckets it has."""

from __future__ import annotations

import pytest

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

ALWAYS_THERE = {"job", "instance"}  # target labels Prometheus adds to every sample


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
        for label, _op, value in MATCHER_RE.findall(matchers):
            if name in samples and label not in samples[name] | ALWAYS_THERE:
                found.append(f"{name} has no label {label!r}")
            if label == "le" and value not in buckets.get(name, set()):
                found.append(f"{name} has no bucket le={value!r}")
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
