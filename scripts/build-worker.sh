#!/usr/bin/env bash
# Builds the release wasm and its JavaScript shim into build/ with worker-build, using
# the helpers scripts/toolchain.sh installed (run through `make worker`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${WORKER_BUILD:?run through make, which sets up the toolchain}"
log=$(mktemp)
if ! "$WORKER_BUILD" --release >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
rm -f "$log"
# worker-build keeps the name section (wasm-opt --debuginfo); it is a fifth of the file
# and only names functions in a trace, so it goes.
# -Oz once more and without the name and producers sections: the gzipped size is what
# Cloudflare's limits and cold starts count. No --all-features: with it, -Oz may use
# proposals (e.g. custom descriptors) that workerd cannot compile.
"$WASM_OPT_BIN" -Oz --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
raw=$(wc -c < build/index_bg.wasm)
gzipped=$(gzip -9 -c build/index_bg.wasm | wc -c)
echo "built build/index_bg.wasm: $raw bytes, $gzipped gzipped"
scripts/prebuilt-config.sh build
touch build/worker/shim.mjs
