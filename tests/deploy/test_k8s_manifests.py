"""Every overlay renders, validates against the Kubernetes schemas (strict), and keeps the
promises of issue 11: scaling, resources, hardening, probes, network policy, secrets."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.support import KUSTOMIZATIONS, OVERLAYS, find, render

# The oldest Kubernetes we support, and the newest schemas the validator ships.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Custom resources have no schema in kubernetes-validate; each is checked by hand below.
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("external-secrets.io/v1", "ExternalSecret"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


def objects(overlay: str) -> tuple[dict[str, Any], ...]:
    return render(f"deploy/k8s/overlays/{overlay}")


def pod_specs(overlay: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in objects(overlay)
        if o["kind"] in ("Deployment", "Job")
    ]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_objects_are_valid_kubernetes(path: str, version: str) -> None:
    rendered = render(path)
    assert rendered, f"{path} rendered nothing"
    for obj in rendered:
        key = (obj["apiVersion"], obj["kind"])
        if key in CRDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    unknown = {(o["apiVersion"], o["kind"]) for o in rendered} - CRDS
    assert all("/" in api or api == "v1" for api, _ in unknown)


def test_strict_validation_rejects_an_unknown_field() -> None:
    """The control: the validator really is strict (a typo in a manifest fails)."""
    deployment = dict(find(objects("prod"), "Deployment", "llmgenie-worker"))
    deployment["spec"] = {**deployment["spec"], "replica": 3}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_is_namespaced_in_the_overlays_namespace(overlay: str) -> None:
    for obj in objects(overlay):
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == f"llmgenie-{overlay}"
            labels = obj["metadata"]["labels"]
            assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        else:
            assert obj["metadata"].get("namespace") == f"llmgenie-{overlay}", obj["kind"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_hardened_and_sized(overlay: str) -> None:
    for where, spec in pod_specs(overlay):
        assert spec["automountServiceAccountToken"] is False, where
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] >= 10000, where
        assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault", where
        mounts_by_volume = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", where
            writable = {
                m["mountPath"]
                for m in container["volumeMounts"]
                if "emptyDir" in mounts_by_volume[m["name"]]
            }
            assert {"/tmp", "/var/lib/llmgenie"} <= writable, where
            if where.startswith("Deployment/"):
                assert container["resources"] == {
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"cpu": "2", "memory": "4Gi"},
                }, where
                assert container["livenessProbe"] and container["readinessProbe"], where
                pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
                assert pre_stop[0] == "sleep" or "sleep" in pre_stop[-1], where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_team_server_scales_2_to_10_at_70_percent_cpu(overlay: str) -> None:
    hpa = find(objects(overlay), "HorizontalPodAutoscaler", "llmgenie-team-server")
    cpu = hpa["spec"]["metrics"][0]["resource"]
    assert cpu["name"] == "cpu" and cpu["target"]["averageUtilization"] == 70
    expected = (1, 2) if overlay == "dev" else (2, 10)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == expected
    deployment = find(objects(overlay), "Deployment", "llmgenie-team-server")
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_scale_on_queue_depth_or_cpu_but_never_both(overlay: str) -> None:
    rendered = objects(overlay)
    scaled = [o for o in rendered if o["kind"] == "ScaledObject"]
    hpas = [
        o
        for o in rendered
        if o["kind"] == "HorizontalPodAutoscaler"
        and o["spec"]["scaleTargetRef"]["name"] == "llmgenie-worker"
    ]
    assert len(scaled) + len(hpas) == 1, "exactly one autoscaler for the workers"
    if overlay == "dev":
        assert hpas, "dev has no KEDA: the CPU HPA fallback"
        return
    (so,) = scaled
    assert so["spec"]["scaleTargetRef"]["name"] == "llmgenie-worker"
    triggers = {t["type"]: t for t in so["spec"]["triggers"]}
    assert "llmgenie_queue_depth" in triggers["prometheus"]["metadata"]["query"]
    assert float(triggers["prometheus"]["metadata"]["threshold"]) > 0
    assert so["spec"]["minReplicaCount"] >= 1
    assert so["spec"]["fallback"]["replicas"] >= 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_drains_before_it_is_killed(overlay: str) -> None:
    worker = find(objects(overlay), "Deployment", "llmgenie-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 120
    (container,) = worker["containers"]
    assert "--metrics" in container["args"]
    # The preStop hook creates the file the worker watches: it claims nothing more.
    stop_file = container["args"][container["args"].index("--stop-file") + 1]
    assert f"touch {stop_file} &&" in container["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert stop_file.startswith("/tmp/")  # a writable emptyDir on a read-only root
    assert "ports" in container and container["ports"][0]["containerPort"] == 9100
    budget = find(objects(overlay), "PodDisruptionBudget", "llmgenie-worker")
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_open_only_what_is_needed(overlay: str) -> None:
    policies = {o["metadata"]["name"]: o for o in objects(overlay) if o["kind"] == "NetworkPolicy"}
    deny = policies["llmgenie-default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    server_in = policies["llmgenie-team-server-ingress"]["spec"]["ingress"]
    assert [p["port"] for rule in server_in for p in rule["ports"]] == [8765]
    worker_in = policies["llmgenie-worker-ingress"]["spec"]["ingress"]
    assert [p["port"] for rule in worker_in for p in rule["ports"]] == [9100]
    egress_ports = {
        p["port"]
        for policy in policies.values()
        for rule in policy["spec"].get("egress", [])
        for p in rule.get("ports", [])
    }
    assert egress_ports == {53, 5432, 6379, 5672, 4317, 443}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_terminates_tls_and_keeps_websockets_open(overlay: str) -> None:
    rendered = objects(overlay)
    lsp = find(rendered, "Ingress", "llmgenie-lsp")
    api = find(rendered, "Ingress", "llmgenie-api")
    for ingress in (lsp, api):
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert lsp["spec"]["rules"][0]["host"] == api["spec"]["rules"][0]["host"]
    paths = [p["path"] for p in lsp["spec"]["rules"][0]["http"]["paths"]]
    assert paths == ["/lsp"]
    notes = lsp["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    routed = [p["path"] for p in api["spec"]["rules"][0]["http"]["paths"]]
    assert "/metrics" not in routed and "/api" in routed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_reference_resolves(overlay: str) -> None:
    """ConfigMaps, Secrets and their keys, service accounts and Service ports exist."""
    rendered = objects(overlay)
    names = {(o["kind"], o["metadata"]["name"]) for o in rendered}
    if overlay == "dev":
        secret_keys = set(find(rendered, "Secret", "llmgenie-secrets")["data"])
    else:
        external = find(rendered, "ExternalSecret", "llmgenie-secrets")
        assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
        secret_keys = {d["secretKey"] for d in external["spec"]["data"]}
        assert all(
            f"llmgenie/{overlay}/" in d["remoteRef"]["key"] for d in external["spec"]["data"]
        )
        assert ("Secret", "llmgenie-secrets") not in names, "no plain Secret outside dev"
    for where, spec in pod_specs(overlay):
        assert ("ServiceAccount", spec["serviceAccountName"]) in names, where
        for volume in spec["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] == "llmgenie-secrets"
                assert {i["key"] for i in volume["secret"]["items"]} <= secret_keys
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in names
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "llmgenie-secrets" and ref["key"] in secret_keys
    for monitor in (o for o in rendered if o["kind"] == "ServiceMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [
            o
            for o in rendered
            if o["kind"] == "Service"
            and selector.items() <= o["metadata"].get("labels", {}).items()
        ]
        assert len(services) == 1, monitor["metadata"]["name"]
        ports = {p["name"] for p in services[0]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports


def test_migration_job_runs_before_the_rollout() -> None:
    job = find(objects("prod"), "Job", "llmgenie-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["team", "migrate"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_prometheus_rule_and_dashboards_ship_to_the_cluster() -> None:
    rule = find(objects("prod"), "PrometheusRule", "llmgenie")
    assert {g["name"] for g in rule["spec"]["groups"]} >= {"llmgenie-slo.alerts"}
    monitoring = render("deploy/observability")
    dashboards = find(monitoring, "ConfigMap", "llmgenie-dashboards")
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert len(dashboards["data"]) == 5
    config = find(monitoring, "Secret", "alertmanager-llmgenie")
    assert "alertmanager.yaml" in config["data"]
    keys = find(monitoring, "ExternalSecret", "alertmanager-llmgenie-keys")
    assert {d["secretKey"] for d in keys["spec"]["data"]} == {
        "slack-webhook-url",
        "pagerduty-routing-key",
    }
