#!/usr/bin/env bash
# Install llmgenie, then index the bundled sample workspace, search it and print its repo map.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
SAMPLE=examples/sample-workspace
.venv/bin/llmgenie index "$SAMPLE" --embed   # lexical + symbols, then local embeddings (ONNX)
echo
.venv/bin/llmgenie search "$SAMPLE" "reserve stock when an item is out of stock" -k 5
echo
.venv/bin/llmgenie map "$SAMPLE" --tokens 600
