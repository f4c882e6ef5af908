#!/usr/bin/env bash
# Roll out llmgenie to one environment in the safe order:
#   1. the migration Job (`llmgenie team migrate`), waited for;
#   2. everything else (Deployments roll; the server refuses an outdated schema anyway).
# Usage: deploy/k8s/rollout.sh dev|staging|prod   (kubectl pointed at the right cluster)
set -euo pipefail
env=${1:?usage: $0 dev|staging|prod}
dir="$(cd "$(dirname "$0")" && pwd)/overlays/$env"
ns="llmgenie-$env"
manifests=$(mktemp)
trap 'rm -f "$manifests"' EXIT
kubectl kustomize "$dir" > "$manifests"

# Namespace, ConfigMap, Secret/ExternalSecret and NetworkPolicies first: the Job needs them.
kubectl apply -f "$manifests" -l 'app.kubernetes.io/component notin (team-server,worker,migrate)'
# Jobs are immutable: replace the previous run, then apply the Job and its ServiceAccount.
kubectl -n "$ns" delete job llmgenie-migrate --ignore-not-found --wait=true
kubectl apply -f "$manifests" -l 'app.kubernetes.io/component=migrate'
kubectl -n "$ns" wait --for=condition=complete job/llmgenie-migrate --timeout=900s

kubectl apply -f "$manifests"
kubectl -n "$ns" rollout status deployment/llmgenie-team-server --timeout=600s
kubectl -n "$ns" rollout status deployment/llmgenie-worker --timeout=900s
