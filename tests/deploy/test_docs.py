"""docs/deployment.md names only metrics and alerts that exist, and has a runbook section
for every alert the rules define (the rules' runbook_url anchors point at it)."""

from __future__ import annotations

import re

from tests.deploy.support import METRIC_RE, REPO, exported_samples, rule_groups

DOC = REPO / "docs" / "deployment.md"
ALERT_RE = re.compile(r"\b(Llmgenie[A-Z][A-Za-z]+)\b")


def alerts() -> set[str]:
    return {r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r}


def anchors() -> set[str]:
    """GitHub's anchors of the doc's headings (lower case, spaces to dashes)."""
    found = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return found


def test_every_metric_named_in_the_doc_is_exported() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(METRIC_RE.findall(text))
    assert named, "the doc names no metric"
    samples = set(exported_samples())
    # A histogram is named by its family (NAME) as well as its samples (NAME_bucket, ...).
    families = {name.removesuffix("_bucket") for name in samples if name.endswith("_bucket")}
    assert named <= samples | families, named - samples - families


def test_every_alert_named_in_the_doc_exists_and_every_alert_is_documented() -> None:
    named = set(ALERT_RE.findall(DOC.read_text(encoding="utf-8")))
    assert named == alerts(), {"unknown": named - alerts(), "undocumented": alerts() - named}


def test_runbook_links_point_at_sections_of_the_doc() -> None:
    for group in rule_groups():
        for rule in group["rules"]:
            if "alert" in rule:
                url = rule["annotations"]["runbook_url"]
                path, _, anchor = url.partition("#")
                assert path == "docs/deployment.md", url
                assert anchor in anchors(), f"{rule['alert']}: no section #{anchor}"
