"""Generate the files of deploy/ that are derived from others, so that each fact lives once.

    python deploy/observability/generate.py          # write them
    python deploy/observability/generate.py --check  # exit 1 if a committed file is stale

What it writes:
- deploy/observability/dashboards/*.json: the Grafana dashboards (compose provisions them
  from that folder; Kubernetes ships them as ConfigMaps for Grafana's dashboard sidecar).
  Writing them from Python keeps the JSON uniform (ids, grid, datasource variable) and the
  queries readable here.
- deploy/k8s/base/prometheusrule.yaml: the PrometheusRule wrapping the groups of
  deploy/observability/prometheus/rules/llmgenie.rules.yml, the one source of the rules.

Needs only the standard library and PyYAML (a dependency of the dev tools).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DEPLOY = HERE.parent
DASHBOARDS = HERE / "dashboards"
RULES = HERE / "prometheus" / "rules" / "llmgenie.rules.yml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "base" / "prometheusrule.yaml"

# The REST routes that the API SLO leaves out (probes and scrapes, not users).
API = 'route!~"/healthz|/readyz|/metrics"'
DS = {"type": "prometheus", "uid": "${datasource}"}


class Board:
    """A dashboard under construction: panels laid out on Grafana's 24-column grid."""

    def __init__(self, uid: str, title: str, description: str) -> None:
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict[str, Any]] = []
        self._x = self._y = self._row_h = 0

    def _place(self, w: int, h: int) -> dict[str, int]:
        if self._x + w > 24:
            self._x, self._y, self._row_h = 0, self._y + self._row_h, 0
        pos = {"x": self._x, "y": self._y, "w": w, "h": h}
        self._x += w
        self._row_h = max(self._row_h, h)
        return pos

    def row(self, title: str) -> None:
        if self._x:
            self._x, self._y, self._row_h = 0, self._y + self._row_h, 0
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"x": 0, "y": self._y, "w": 24, "h": 1},
                "panels": [],
            }
        )
        self._y += 1

    def panel(
        self,
        kind: str,
        title: str,
        targets: list[tuple[str, str]],
        *,
        unit: str = "short",
        w: int = 12,
        h: int = 8,
        description: str = "",
        thresholds: list[tuple[float, str]] | None = None,
    ) -> None:
        steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
        steps += [{"color": color, "value": value} for value, color in thresholds or []]
        field: dict[str, Any] = {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        }
        if kind == "timeseries" and thresholds:
            # Draw the SLA as a dashed line on the graph.
            field["defaults"]["custom"] = {"thresholdsStyle": {"mode": "dashed"}}
        self.panels.append(
            {
                "type": kind,
                "title": title,
                "description": description,
                "datasource": DS,
                "gridPos": self._place(w, h),
                "fieldConfig": field,
                "options": {"legend": {"displayMode": "table", "placement": "bottom"}}
                if kind == "timeseries"
                else {"reduceOptions": {"calcs": ["lastNotNull"]}},
                "targets": [
                    {
                        "refId": chr(ord("A") + i),
                        "datasource": DS,
                        "expr": expr,
                        "legendFormat": legend,
                    }
                    for i, (expr, legend) in enumerate(targets)
                ],
            }
        )

    def text(self, title: str, content: str, w: int = 24, h: int = 3) -> None:
        self.panels.append(
            {
                "type": "text",
                "title": title,
                "gridPos": self._place(w, h),
                "options": {"mode": "markdown", "content": content},
            }
        )

    def render(self) -> dict[str, Any]:
        for number, panel in enumerate(self.panels, start=1):
            panel["id"] = number
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["llmgenie"],
            "timezone": "browser",
            "schemaVersion": 39,
            "version": 1,
            "editable": True,
            "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "templating": {
                "list": [
                    {
                        "name": "datasource",
                        "label": "Prometheus",
                        "type": "datasource",
                        "query": "prometheus",
                        "current": {},
                        "hide": 0,
                    }
                ]
            },
            "annotations": {"list": []},
            "links": [
                {
                    "type": "dashboards",
                    "tags": ["llmgenie"],
                    "title": "llmgenie",
                    "asDropdown": True,
                }
            ],
            "panels": self.panels,
        }


def agents() -> Board:
    b = Board("llmgenie-agents", "llmgenie / Agent activity and errors", "Runs by crew and outcome")
    b.row("Activity")
    b.panel(
        "stat",
        "Runs in progress",
        [("sum(llmgenie_active_runs)", "runs")],
        w=6,
        description="Agent runs executing now (team server and workers).",
    )
    b.panel(
        "stat",
        "Runs finished (1 h)",
        [("sum(increase(llmgenie_agent_tasks_total[1h]))", "runs")],
        w=6,
    )
    b.panel(
        "stat",
        "Error ratio (1 h)",
        [
            (
                'sum(increase(llmgenie_agent_tasks_total{outcome="error"}[1h]))'
                " / sum(increase(llmgenie_agent_tasks_total[1h]))",
                "errors",
            )
        ],
        unit="percentunit",
        w=6,
        thresholds=[(0.05, "orange"), (0.25, "red")],
    )
    b.panel(
        "stat",
        "Agent p95 (1 h)",
        [
            (
                "histogram_quantile(0.95, sum by (le) "
                '(rate(llmgenie_agent_response_time_seconds_bucket{agent="crew"}[1h])))',
                "p95",
            )
        ],
        unit="s",
        w=6,
        thresholds=[(2, "red")],
    )
    b.panel(
        "timeseries",
        "Runs finished per minute, by crew and outcome",
        [
            (
                "sum by (crew, outcome) (rate(llmgenie_agent_tasks_total[5m])) * 60",
                "{{crew}} {{outcome}}",
            )
        ],
        unit="short",
        w=24,
    )
    b.row("Errors")
    b.panel(
        "timeseries",
        "Failed runs per minute, by crew",
        [
            (
                'sum by (crew) (rate(llmgenie_agent_tasks_total{outcome="error"}[5m])) * 60',
                "{{crew}}",
            )
        ],
    )
    b.panel(
        "timeseries",
        "Error ratio (alerts at 5 % and 25 %)",
        [
            (
                'sum(rate(llmgenie_agent_tasks_total{outcome="error"}[10m]))'
                " / sum(rate(llmgenie_agent_tasks_total[10m]))",
                "error ratio",
            )
        ],
        unit="percentunit",
        thresholds=[(0.05, "orange"), (0.25, "red")],
    )
    b.panel(
        "timeseries",
        "Runs not ending well, by outcome",
        [
            (
                'sum by (outcome) (rate(llmgenie_agent_tasks_total{outcome!="success"}[5m])) * 60',
                "{{outcome}}",
            )
        ],
        w=24,
        description="error, cancelled, denied (permissions), budget_exceeded.",
    )
    return b


def sla() -> Board:
    b = Board("llmgenie-sla", "llmgenie / Latency vs SLA", "API p99 < 500 ms, agent p95 < 2 s")
    b.row("API: p99 < 500 ms")
    b.panel(
        "timeseries",
        "API p99 (all routes but probes)",
        [
            (
                "histogram_quantile(0.99, sum by (le) "
                f"(rate(llmgenie_api_request_duration_seconds_bucket{{{API}}}[5m])))",
                "p99",
            )
        ],
        unit="s",
        thresholds=[(0.5, "red")],
    )
    b.panel(
        "timeseries",
        "API p99 by route",
        [
            (
                "histogram_quantile(0.99, sum by (le, route) "
                f"(rate(llmgenie_api_request_duration_seconds_bucket{{{API}}}[5m])))",
                "{{route}}",
            )
        ],
        unit="s",
        thresholds=[(0.5, "red")],
    )
    b.panel(
        "timeseries",
        "API error budget burn rate (1 = budget lasts exactly 30 days)",
        [
            ("llmgenie:api_slow_requests:ratio_rate5m / 0.01", "5m"),
            ("llmgenie:api_slow_requests:ratio_rate1h / 0.01", "1h"),
            ("llmgenie:api_slow_requests:ratio_rate6h / 0.01", "6h"),
            ("llmgenie:api_slow_requests:ratio_rate3d / 0.01", "3d"),
        ],
        thresholds=[(6, "orange"), (14.4, "red")],
    )
    b.panel(
        "timeseries",
        "API requests per second, by status",
        [
            (
                f"sum by (status) (rate(llmgenie_api_request_duration_seconds_count{{{API}}}[5m]))",
                "{{status}}",
            )
        ],
        unit="reqps",
    )
    b.row("Agents: p95 < 2 s")
    b.panel(
        "timeseries",
        "Agent p95 by crew",
        [
            (
                "histogram_quantile(0.95, sum by (le, crew) "
                '(rate(llmgenie_agent_response_time_seconds_bucket{agent="crew"}[5m])))',
                "{{crew}}",
            )
        ],
        unit="s",
        thresholds=[(2, "red")],
    )
    b.panel(
        "timeseries",
        "Agent turn p95 by agent (one model call of a specialist)",
        [
            (
                "histogram_quantile(0.95, sum by (le, agent) "
                '(rate(llmgenie_agent_response_time_seconds_bucket{agent!="crew"}[5m])))',
                "{{agent}}",
            )
        ],
        unit="s",
    )
    b.panel(
        "timeseries",
        "Agent error budget burn rate",
        [
            ("llmgenie:agent_slow_runs:ratio_rate5m / 0.05", "5m"),
            ("llmgenie:agent_slow_runs:ratio_rate1h / 0.05", "1h"),
            ("llmgenie:agent_slow_runs:ratio_rate6h / 0.05", "6h"),
            ("llmgenie:agent_slow_runs:ratio_rate3d / 0.05", "3d"),
        ],
        thresholds=[(6, "orange"), (14.4, "red")],
    )
    b.panel(
        "timeseries",
        "Orchestrated tasks (crew runs) finished within 30 s, by crew",
        [
            (
                "sum by (crew) (rate(llmgenie_agent_response_time_seconds_bucket"
                '{agent="crew",le="30.0"}[1h])) / sum by (crew) '
                '(rate(llmgenie_agent_response_time_seconds_count{agent="crew"}[1h]))',
                "{{crew}}",
            )
        ],
        unit="percentunit",
        description="The SLA: an orchestrated task ends within 30 s, so this stays at 100 %.",
    )
    b.row("Language server and retrieval")
    b.panel(
        "timeseries",
        "LSP request p95 by method",
        [
            (
                "histogram_quantile(0.95, sum by (le, method) "
                "(rate(llmgenie_lsp_request_latency_seconds_bucket[5m])))",
                "{{method}}",
            )
        ],
        unit="s",
    )
    b.panel(
        "timeseries",
        "Search p95",
        [
            (
                "histogram_quantile(0.95, sum by (le) "
                "(rate(llmgenie_search_latency_seconds_bucket[5m])))",
                "search",
            )
        ],
        unit="s",
        thresholds=[(0.1, "red")],
    )
    return b


def queue() -> Board:
    b = Board("llmgenie-queue", "llmgenie / Queue and workers", "The worker pool and its ledger")
    b.panel(
        "stat",
        "Queued runs",
        [("max(llmgenie_queue_depth)", "queued")],
        w=6,
        thresholds=[(50, "orange"), (200, "red")],
    )
    b.panel("stat", "Running runs", [("max(llmgenie_runs_running)", "running")], w=6)
    b.panel(
        "stat",
        "Live workers",
        [("max(llmgenie_workers)", "workers")],
        w=6,
        thresholds=[(0, "red"), (1, "green")],
    )
    b.panel(
        "stat",
        "Lease expiries (1 h)",
        [("sum(increase(llmgenie_lease_expiries_total[1h]))", "expiries")],
        w=6,
        thresholds=[(1, "orange")],
    )
    b.panel(
        "timeseries",
        "Queue depth and runs held by workers",
        [
            ("max(llmgenie_queue_depth)", "queued"),
            ("max(llmgenie_runs_running)", "running"),
        ],
        description="Every team-server replica reports the same ledger counts: max().",
    )
    b.panel(
        "timeseries",
        "Workers with a fresh heartbeat, and workers lost",
        [
            ("max(llmgenie_workers)", "workers"),
            ("max(llmgenie_workers_lost)", "lost (stopped beating, no clean shutdown)"),
        ],
        thresholds=[(0, "red"), (1, "green")],
    )
    b.panel(
        "timeseries",
        "Lease expiries (runs re-queued by the reaper)",
        [("sum(increase(llmgenie_lease_expiries_total[5m]))", "expiries / 5m")],
    )
    b.panel(
        "timeseries",
        "Database pool, by process",
        [
            ("max by (job, instance) (llmgenie_db_pool_connections_in_use)", "{{instance}} in use"),
            ("max by (job, instance) (llmgenie_db_pool_waiting)", "{{instance}} waiting"),
        ],
        description="Connections checked out (pool 10 + overflow 20) and threads blocked on "
        "an exhausted pool.",
    )
    b.panel(
        "timeseries",
        "Scrape targets up",
        [('sum by (job) (up{job=~"llmgenie.*"})', "{{job}}")],
    )
    return b


def cost() -> Board:
    b = Board("llmgenie-cost", "llmgenie / Tokens and cost", "Model usage by model")
    b.panel(
        "stat",
        "Cost, last 24 h",
        [("sum(increase(llmgenie_llm_cost_usd_total[24h]))", "USD")],
        unit="currencyUSD",
        w=8,
    )
    b.panel(
        "stat",
        "Tokens, last 24 h",
        [("sum(increase(llmgenie_llm_tokens_total[24h]))", "tokens")],
        w=8,
    )
    b.panel(
        "stat",
        "Cost per finished run, last 24 h",
        [
            (
                "sum(increase(llmgenie_llm_cost_usd_total[24h]))"
                " / sum(increase(llmgenie_agent_tasks_total[24h]))",
                "USD / run",
            )
        ],
        unit="currencyUSD",
        w=8,
    )
    b.panel(
        "timeseries",
        "Tokens per minute, by model and kind",
        [("sum by (model, kind) (rate(llmgenie_llm_tokens_total[5m])) * 60", "{{model}} {{kind}}")],
    )
    b.panel(
        "timeseries",
        "Cost per hour, by model",
        [("sum by (model) (rate(llmgenie_llm_cost_usd_total[1h])) * 3600", "{{model}}")],
        unit="currencyUSD",
    )
    return b


def business() -> Board:
    b = Board(
        "llmgenie-business",
        "llmgenie / Business view",
        "Who uses the agents and what they get done",
    )
    b.panel(
        "stat",
        "Active editor sessions",
        [("sum(llmgenie_websocket_sessions)", "sessions")],
        w=8,
        description="Authenticated WebSocket sessions on all team-server replicas.",
    )
    b.panel("stat", "Agent runs in progress", [("sum(llmgenie_active_runs)", "runs")], w=8)
    b.panel(
        "stat",
        "Tasks completed, last 24 h",
        [('sum(increase(llmgenie_agent_tasks_total{outcome="success"}[24h]))', "tasks")],
        w=8,
    )
    b.panel(
        "timeseries",
        "Active sessions and runs",
        [
            ("sum(llmgenie_websocket_sessions)", "editor sessions"),
            ("sum(llmgenie_active_runs)", "runs in progress"),
        ],
    )
    b.panel(
        "timeseries",
        "Completed tasks per crew (per hour)",
        [
            (
                'sum by (crew) (rate(llmgenie_agent_tasks_total{outcome="success"}[1h])) * 3600',
                "{{crew}}",
            )
        ],
    )
    b.panel(
        "bargauge",
        "Completed tasks per crew, last 7 days",
        [
            (
                'sum by (crew) (increase(llmgenie_agent_tasks_total{outcome="success"}[7d]))',
                "{{crew}}",
            )
        ],
        w=24,
    )
    b.panel(
        "bargauge",
        "User feedback on answers, last 7 days",
        [
            (
                "sum by (crew, verdict) (increase(llmgenie_answer_feedback_total[7d]))",
                "{{crew}} {{verdict}}",
            )
        ],
        description="The chat's thumbs up (helpful) and down (unhelpful) on agent answers.",
    )
    b.panel(
        "timeseries",
        "Share of answers rated helpful, by crew (24 h)",
        [
            (
                'sum by (crew) (increase(llmgenie_answer_feedback_total{verdict="helpful"}[24h]))'
                " / sum by (crew) (increase(llmgenie_answer_feedback_total[24h]))",
                "{{crew}}",
            )
        ],
        unit="percentunit",
    )
    return b


BOARDS = [agents, sla, queue, cost, business]


def dashboards() -> dict[Path, str]:
    files = {}
    for make in BOARDS:
        board = make().render()
        files[DASHBOARDS / f"{board['uid']}.json"] = json.dumps(board, indent=2) + "\n"
    return files


def prometheus_rule() -> str:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    document = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "llmgenie",
            "labels": {
                "app.kubernetes.io/name": "llmgenie",
                # kube-prometheus-stack's Prometheus selects rules with this label.
                "release": "prometheus",
            },
        },
        "spec": {"groups": rules["groups"]},
    }
    header = (
        "# GENERATED by deploy/observability/generate.py from\n"
        "# deploy/observability/prometheus/rules/llmgenie.rules.yml: edit that file, then run\n"
        "# `python deploy/observability/generate.py`.\n"
    )
    body = yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, width=100, allow_unicode=True)
    return header + body


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (PromQL) as literal blocks, as in the source file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def outputs() -> dict[Path, str]:
    files = dashboards()
    files[PROMETHEUS_RULE] = prometheus_rule()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args()
    files = outputs()
    stale = [
        str(path.relative_to(DEPLOY.parent))
        for path in DASHBOARDS.glob("*.json")
        if path not in files  # a dashboard no generator writes any more
    ]
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(DEPLOY.parent)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(DEPLOY.parent)}")
    if stale:
        print("out of date (run python deploy/observability/generate.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
