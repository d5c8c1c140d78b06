#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets of fuzz/ one after another, FUZZ_SECONDS each,
# at the lowest priority and in one process, then prints per target the executions, the
# seconds, the corpus size and the crashes found. Exits non-zero if any target crashed;
# crash inputs stay in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                      # every target, 600 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh token_verify
#
# Installs what is missing first (idempotent): the nightly toolchain (rustup) and
# cargo-fuzz (crates.io). The hand-made seeds in fuzz/seeds/<target>/ are copied into
# fuzz/corpus/<target>/, which libFuzzer then grows (ignored by git).
#
# Settings (environment): FUZZ_SECONDS (600), FUZZ_MAX_LEN (20000, over the 16 KiB body
# limit so the 413 path is reachable), FUZZ_TIMEOUT (seconds one input may take, 10),
# FUZZ_SANITIZER (address; `none` is faster: docs/performance.md), FUZZ_TOOLCHAIN (nightly),
# CARGO_FUZZ_VERSION (0.13.2, used only when cargo-fuzz is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_DIR="$ROOT/fuzz"
SECONDS_EACH=${FUZZ_SECONDS:-600}
MAX_LEN=${FUZZ_MAX_LEN:-20000}
TIMEOUT=${FUZZ_TIMEOUT:-10}
SANITIZER=${FUZZ_SANITIZER:-address}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
CARGO_FUZZ_VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
# One build job as well: the machine has two cores and the other one is someone's.
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

log() { printf '%s\n' "fuzz: $*" >&2; }

case $SECONDS_EACH in '' | *[!0-9]*) log "FUZZ_SECONDS must be a whole number of seconds"; exit 2 ;; esac

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for file in "$FUZZ_DIR"/fuzz_targets/*.rs; do
		name=$(basename "$file" .rs)
		targets+=("$name")
	done
fi
for target in "${targets[@]}"; do
	[ -f "$FUZZ_DIR/fuzz_targets/$target.rs" ] || { log "no target $target in fuzz/fuzz_targets"; exit 2; }
done

# --- what it needs ----------------------------------------------------------------------
command -v rustup >/dev/null || { log "rustup is needed (cargo-fuzz runs on nightly)"; exit 1; }
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
	log "installing the $TOOLCHAIN toolchain"
	rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
	log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
	nice -n 19 cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
log "$(cargo fuzz --version | head -n1), $(rustup run "$TOOLCHAIN" rustc --version)"

cd "$FUZZ_DIR"
log "building ${targets[*]} (sanitizer: $SANITIZER)"
for target in "${targets[@]}"; do
	nice -n 19 cargo "+$TOOLCHAIN" fuzz build --sanitizer "$SANITIZER" "$target"
done

# --- the runs ---------------------------------------------------------------------------
mkdir -p target/fuzz-logs
summary=()
failed=0
for target in "${targets[@]}"; do
	corpus="corpus/$target"
	artifacts="artifacts/$target"
	mkdir -p "$corpus" "$artifacts"
	if [ -d "seeds/$target" ]; then
		# -n: a seed already in the corpus is left as it is (idempotent).
		find "seeds/$target" -maxdepth 1 -type f -exec cp -n {} "$corpus/" \;
	fi
	crashes_before=$(find "$artifacts" -maxdepth 1 -type f | wc -l)
	dict=()
	[ -f "dicts/$target.dict" ] && dict=("-dict=dicts/$target.dict")
	logfile="target/fuzz-logs/$target.log"
	log "running $target for ${SECONDS_EACH}s (log: fuzz/$logfile)"
	start=$(date +%s)
	status=0
	nice -n 19 cargo "+$TOOLCHAIN" fuzz run --sanitizer "$SANITIZER" "$target" "$corpus" -- \
		-max_total_time="$SECONDS_EACH" -max_len="$MAX_LEN" -timeout="$TIMEOUT" \
		-print_final_stats=1 "${dict[@]}" >"$logfile" 2>&1 || status=$?
	elapsed=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$logfile" | tail -n1)
	execs=${execs:-0}
	# libFuzzer's own count of seconds when it ran its time out, else the wall clock.
	ran=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$logfile" | tail -n1)
	ran=${ran:-$elapsed}
	rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$logfile" | tail -n1)
	rate=${rate:-$((execs / (ran > 0 ? ran : 1)))}
	entries=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	crashes=$(($(find "$artifacts" -maxdepth 1 -type f | wc -l) - crashes_before))
	if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
		failed=1
		log "$target FAILED (exit $status); the end of its log:"
		tail -n 60 "$logfile" >&2
		find "$artifacts" -maxdepth 1 -type f -newermt "@$start" -printf 'fuzz: crash input: fuzz/%p\n' >&2
	fi
	summary+=("$(printf '%-16s %12s %10s %8s %8s %8s' "$target" "$execs" "$rate" "$ran" "$entries" "$crashes")")
done

printf '%-16s %12s %10s %8s %8s %8s\n' target executions exec/s seconds corpus crashes
printf '%s\n' "${summary[@]}"
exit "$failed"
