#!/usr/bin/env bash
# Runs the end-to-end tests (tests/e2e) against the built worker. Each `wrangler dev`
# the tests start records its process group here; whatever way the run ends (a failure,
# Ctrl-C), every one of them is stopped, so no workerd is left behind.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
toolchain_env=$(scripts/toolchain.sh --for-tests)
eval "$toolchain_env"
LOGIN_E2E_PIDS=$(mktemp -d)
export LOGIN_E2E_PIDS
stop_workers() {
    for file in "$LOGIN_E2E_PIDS"/*; do
        [ -e "$file" ] || continue
        kill -TERM -- "-$(basename "$file")" 2>/dev/null || true
    done
    sleep 1
    for file in "$LOGIN_E2E_PIDS"/*; do
        [ -e "$file" ] || continue
        kill -KILL -- "-$(basename "$file")" 2>/dev/null || true
    done
    rm -rf "$LOGIN_E2E_PIDS"
}
trap stop_workers EXIT
trap 'exit 130' INT TERM
rm -rf target/e2e
scripts/cargo-clippy-build.sh test --quiet --test e2e -- "$@"
