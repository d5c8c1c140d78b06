#!/usr/bin/env bash
# Writes DIR/wrangler.toml: the project's wrangler.toml without its [build] step, serving
# the worker already built into DIR (and public/, the static assets, and migrations/ from
# DIR's parent). The end-to-end tests and the benchmark run that, so
# that wrangler neither rebuilds at each start nor reloads when a source file changes
# while they run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:?usage: scripts/prebuilt-config.sh DIR}
awk 'BEGIN { skip = 0 } /^\[/ { skip = ($0 == "[build]") } !skip' wrangler.toml \
    | sed -e 's|^main = "build/worker/shim.mjs"|main = "worker/shim.mjs"|' \
          -e 's|^directory = "public"|directory = "../public"|' \
          -e 's|^migrations_dir = "migrations"|migrations_dir = "../migrations"|' > "$dir/wrangler.toml"
grep -q '^main = "worker/shim.mjs"' "$dir/wrangler.toml"
grep -q '^directory = "../public"' "$dir/wrangler.toml"
grep -q '^migrations_dir = "../migrations"' "$dir/wrangler.toml"
