"""The Dockerfile and the compose stack, checked offline (no Docker daemon in CI)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.support import DEPLOY, REPO

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages() -> dict[str, list[tuple[str, str]]]:
    by_stage: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for word, rest in instructions():
        if word == "FROM":
            current = rest.split(" AS ")[-1] if " AS " in rest else rest
            by_stage[current] = [(word, rest)]
        else:
            by_stage[current].append((word, rest))
    return by_stage


def test_base_images_are_pinned_and_not_latest() -> None:
    for word, rest in instructions():
        if word == "FROM":
            image = rest.split()[0]
            if image in stages():  # FROM an earlier stage
                continue
            _, _, tag = image.partition(":")
            assert tag and tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), image


def test_targets_run_as_non_root_with_a_healthcheck() -> None:
    all_stages = stages()
    for target, port in (("team-server", "8765"), ("worker", "9100")):
        assert target in all_stages, f"no stage {target}"
        chain = [target]
        while (parent := all_stages[chain[-1]][0][1].split()[0]) in all_stages:
            chain.append(parent)
        steps = [step for stage in reversed(chain) for step in all_stages[stage][1:]]
        users = [rest for word, rest in steps if word == "USER"]
        assert users and users[-1].split(":")[0] not in ("root", "0"), target
        health = [rest for word, rest in steps if word == "HEALTHCHECK"]
        assert health and f"127.0.0.1:{port}/healthz" in health[-1], target
        assert ("EXPOSE", port) in steps, target


def test_no_add_from_urls_and_no_secrets_baked_in() -> None:
    for word, rest in instructions():
        assert word != "ADD", "use COPY (ADD fetches URLs and unpacks archives)"
        if word in ("ENV", "ARG"):
            assert not re.search(r"(KEY|TOKEN|PASSWORD|SECRET)\w*=", rest, re.I), rest


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("*")] == "*", "everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        rest.split()[0].rstrip("/")
        for word, rest in instructions()
        if word == "COPY" and "--from" not in rest
    }
    assert copied <= allowed, copied - allowed
    for path in allowed:
        assert (REPO / path).exists(), path


def test_compose_stack_has_every_service_and_its_files() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) >= {
        "team-server", "worker", "migrate", "postgres", "redis", "rabbitmq",
        "prometheus", "alertmanager", "grafana", "jaeger",
    }  # fmt: skip
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert services["rabbitmq"]["image"] == "rabbitmq:3-management"
    for name, service in services.items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).resolve().exists(), f"{name}: {source}"
        build = service.get("build")
        if build:
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).is_file()
            assert build["target"] in stages(), name
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    for secret in compose["secrets"].values():
        assert (COMPOSE.parent / secret["file"]).is_file()
    for app in ("team-server", "worker", "migrate"):
        service = services[app]
        assert service["read_only"] is True and service["user"].startswith("10001"), app
        assert service["cap_drop"] == ["ALL"], app
    assert services["team-server"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_grafana_provisions_the_same_dashboards() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert (
        Path(COMPOSE.parent / "../observability/dashboards").resolve()
        == (COMPOSE.parent / next(s for s in mounts if s.endswith("dashboards"))).resolve()
    )
    provider = yaml.safe_load(
        (COMPOSE.parent / "grafana/provisioning/dashboards/llmgenie.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] in mounts.values()
