#!/usr/bin/env bash
# cargo, with clippy's lints inside the compiler and their warnings denied:
#
#   scripts/cargo-clippy-build.sh test --all-targets --no-run
#
# builds the native test binaries and lints every target in one pass. clippy-driver is
# rustc with clippy's lint passes (clippy's README, "Using clippy-driver"), so what it
# builds is ordinary; `cargo clippy` and then `cargo test` compiled every dependency twice,
# once checked and once built (docs/development.md, "How long make test takes").
#
# Every native cargo run of the Makefile goes through here with the same settings:
# cargo's fingerprints include the wrapper and CLIPPY_ARGS, so a run without them would
# build the crate again. The release wasm is built by rustc alone (scripts/build-worker.sh):
# clippy-driver turns MIR optimizations off, which a production build must keep.
set -euo pipefail

driver=$(command -v clippy-driver) || {
    echo "clippy-driver not found: rustup component add clippy" >&2
    exit 1
}
# `cargo clippy -- -D warnings` hands clippy-driver its arguments this way.
export RUSTC_WORKSPACE_WRAPPER="$driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

# If a clippy release stopped reading CLIPPY_ARGS, warnings would pass unnoticed: a file
# with an unused variable must fail to compile.
probe=$(mktemp -d)
printf 'fn main() {\n    let unused = 1;\n}\n' >"$probe/probe.rs"
if "$driver" --edition 2021 --emit=metadata --out-dir "$probe" "$probe/probe.rs" >/dev/null 2>&1; then
    rm -rf "$probe"
    echo "clippy-driver no longer denies warnings through CLIPPY_ARGS: use cargo clippy -- -D warnings" >&2
    exit 1
fi
rm -rf "$probe"

exec cargo "$@"
