"""The real linters and checkers over deploy/: checkov, hadolint, yamllint, promtool, amtool."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.deploy.support import (
    DEPLOY,
    KUSTOMIZATIONS,
    OBSERVABILITY,
    REPO,
    rendered_text,
    run,
    tool,
)

PROMETHEUS = OBSERVABILITY / "prometheus"
ALERTMANAGER = OBSERVABILITY / "alertmanager" / "alertmanager.yml"


def checkov(directory: Path, framework: str) -> dict:
    result = run(
        [
            tool("checkov"),
            "--directory",
            str(directory),
            "--framework",
            framework,
            "--output",
            "json",
            "--compact",
            "--skip-download",  # offline: no guidelines from the vendor's API
        ],
        timeout=300,
    )
    # checkov exits 1 when a check fails; anything else non-zero is a crash.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    merged: dict = {"failed_checks": [], "skipped_checks": [], "passed": 0}
    for one in reports:
        for key in ("failed_checks", "skipped_checks"):
            merged[key] += one.get("results", {}).get(key, [])
        merged["passed"] += one.get("summary", {}).get("passed", 0)
    return merged


def describe(checks: list[dict]) -> str:
    return "\n".join(f"{c['check_id']} {c['resource']} {c.get('file_path')}" for c in checks)


def test_checkov_passes_on_every_rendered_overlay(tmp_path: Path) -> None:
    """checkov's Kubernetes policies on what the cluster would receive. Each exception is a
    `checkov.io/skipN` annotation with its reason in the manifest, and nothing else fails."""
    for path in KUSTOMIZATIONS:
        (tmp_path / (path.replace("/", "_") + ".yaml")).write_text(rendered_text(path))
    results = checkov(tmp_path, "kubernetes")
    assert not results["failed_checks"], describe(results["failed_checks"])
    assert results["passed"] > 200, "checkov checked almost nothing"
    assert_skips_are_justified(results)


def assert_skips_are_justified(results: dict) -> None:
    for skipped in results["skipped_checks"]:
        reason = skipped.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) > 30, f"skip without a real reason: {describe([skipped])}"


def test_checkov_passes_on_the_dockerfiles() -> None:
    results = checkov(DEPLOY / "docker", "dockerfile")
    assert not results["failed_checks"], describe(results["failed_checks"])
    assert results["passed"] > 50
    assert not results["skipped_checks"]


def hadolint(dockerfile: Path) -> list[dict]:
    """hadolint's findings at every level, down to style (its default stops at info)."""
    result = run(
        [
            tool("hadolint"),
            "--no-color",
            "--format",
            "json",
            "--failure-threshold",
            "style",
            str(dockerfile),
        ]
    )
    # hadolint exits 1 when it found something; anything else non-zero is a crash.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    findings: list[dict] = json.loads(result.stdout or "[]")
    assert (result.returncode == 0) == (not findings), result.stdout[-3000:]
    return findings


def test_hadolint_passes_on_the_dockerfile() -> None:
    dockerfile = DEPLOY / "docker" / "Dockerfile"
    findings = hadolint(dockerfile)
    assert not findings, [f"{f['code']} line {f['line']}: {f['message']}" for f in findings]
    assert "hadolint ignore" not in dockerfile.read_text(encoding="utf-8"), (
        "a rule switched off inline: fix the Dockerfile instead, or say here why not"
    )


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    """The control: the same invocation does report an unpinned, root, unclean image."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\nUSER root\n")
    codes = {f["code"] for f in hadolint(bad)}
    assert {"DL3007", "DL3008", "DL3009", "DL3015", "DL3002"} <= codes, codes


def test_checkov_finds_no_secrets_in_deploy() -> None:
    """The dev stack's throwaway values are the only "secrets" in deploy/ and are not real
    credentials; checkov's secret scanner must not find anything that looks real."""
    results = checkov(DEPLOY, "secrets")
    assert not results["failed_checks"], describe(results["failed_checks"])
    assert_skips_are_justified(results)


def test_checkov_fails_a_root_container(tmp_path: Path) -> None:
    """The control: the same invocation does report a bad manifest."""
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: x}\n"
        "spec:\n  containers:\n    - name: c\n      image: nginx\n"
        "      securityContext: {privileged: true, runAsUser: 0}\n"
    )
    failed = {c["check_id"] for c in checkov(tmp_path, "kubernetes")["failed_checks"]}
    assert {"CKV_K8S_16", "CKV_K8S_20"} <= failed


def test_yamllint_is_clean() -> None:
    result = run([tool("yamllint"), "--strict", "-c", "deploy/.yamllint.yaml", "deploy"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_config_catches_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\nb:   [1,2]\n")
    result = run([tool("yamllint"), "--strict", "-c", str(DEPLOY / ".yamllint.yaml"), str(bad)])
    assert result.returncode != 0 and "duplication of key" in result.stdout


def test_promtool_checks_the_rules() -> None:
    result = run(
        [tool("promtool"), "check", "rules", str(PROMETHEUS / "rules" / "llmgenie.rules.yml")]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rule_unit_tests_pass() -> None:
    tests = sorted((PROMETHEUS / "tests").glob("*.yml"))
    assert tests
    result = run([tool("promtool"), "test", "rules", *map(str, tests)], cwd=PROMETHEUS / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_checks_the_prometheus_config() -> None:
    result = run([tool("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_checks_the_alertmanager_config() -> None:
    result = run([tool("amtool"), "check-config", str(ALERTMANAGER)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout and "2 inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=LlmgenieNoWorkers"], "pagerduty-and-slack"),
        (["severity=warning", "alertname=LlmgenieQueueBacklog"], "slack"),
        (["alertname=Unlabelled"], "slack"),
    ],
)
def test_alerts_route_by_severity(labels: list[str], receiver: str) -> None:
    result = run(
        [
            tool("amtool"),
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={receiver}",
            *labels,
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_files_are_current() -> None:
    """The PrometheusRule and the dashboards are generated from the rules file and
    generate.py: a hand edit of either, or a rules change without regenerating, fails."""
    result = run([sys.executable, str(OBSERVABILITY / "generate.py"), "--check"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert REPO.joinpath("deploy/k8s/base/prometheusrule.yaml").is_file()
