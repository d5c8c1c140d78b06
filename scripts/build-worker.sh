#!/usr/bin/env bash
# Builds the release wasm and its JavaScript shim into OUT_DIR (build/) with
# worker-build, using the helpers scripts/toolchain.sh installed (run through make);
# further arguments go to worker-build (`make bench`: --features bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${WORKER_BUILD:?run through make, which sets up the toolchain}"
out=${1:-build}
shift || true
size=()
if [ -n "${LOGIN_WASM_STD_FROM_SOURCE:-}" ]; then
    # std compiled from its sources for this wasm (unstable cargo options, through
    # RUSTC_BOOTSTRAP): optimized for size, and a panic aborts at once instead of
    # formatting a message no one reads (panic = "abort" already ends the instance). So
    # no panic location is kept either (-Zlocation-detail=none), and a derived Debug
    # prints only a type's or a fieldless variant's name (-Zfmt-debug=shallow; `{:?}` of
    # a string, which the error messages use, is written by hand and unchanged). Each
    # makes the wasm smaller: docs/performance.md, "std from its sources". Only this
    # build sees these variables.
    # scripts/toolchain.sh decides (rust-src, rustc 1.92 or newer).
    size=(RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort
        CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
        "RUSTFLAGS=${RUSTFLAGS:+$RUSTFLAGS }-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=shallow")
fi
log=$(mktemp)
# ${size[@]+...}: an empty array under `set -u` is an error in bash before 4.4.
if ! env ${size[@]+"${size[@]}"} "$WORKER_BUILD" --release --out-dir "$out" "$@" >"$log" 2>&1; then
    if [ ${#size[@]} -eq 0 ] || ! "$WORKER_BUILD" --release --out-dir "$out" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    # Unstable options may stop working with a new toolchain: the build still works, larger.
    echo "build-worker: the size-optimized std did not build; built with the prebuilt std" >&2
fi
rm -f "$log"
# worker-build keeps the name section (wasm-opt --debuginfo), a large part of the file
# (docs/performance.md, "The name section") that only names functions in a trace, so it
# goes.
# -Oz once more and without the name and producers sections: the gzipped size is what
# Cloudflare's limits and cold starts count. No --all-features: with it, -Oz may use
# proposals (e.g. custom descriptors) that workerd cannot compile.
# LOGIN_WASM_KEEP_NAMES=1 (make profile) keeps the names, for a CPU profile to show.
# --low-memory-unused: a constant offset added to an address goes into the load's or
# store's offset field, which is shorter. That differs only where the sum would wrap past
# 4 GB into the first 1 KB, and Rust's addresses never wrap: nothing is placed there
# (the stack comes first and grows down towards it) (docs/performance.md, "Low memory
# unused").
strip=(--strip-debug --strip-producers)
[ -z "${LOGIN_WASM_KEEP_NAMES:-}" ] || strip=(-g)
"$WASM_OPT_BIN" -Oz --low-memory-unused "${strip[@]}" "$out/index_bg.wasm" -o "$out/index_bg.wasm"
raw=$(wc -c < "$out/index_bg.wasm")
gzipped=$(gzip -9 -c "$out/index_bg.wasm" | wc -c)
echo "built $out/index_bg.wasm: $raw bytes, $gzipped gzipped"
scripts/prebuilt-config.sh "$out"
touch "$out/worker/shim.mjs"
