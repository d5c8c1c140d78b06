# The two commands a new user needs: `make dev` and `make test`. Both install what is
# missing first (scripts/toolchain.sh), so they work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PORT ?= 8787
# Extra arguments for `wrangler dev`, e.g. DEV_ARGS="--var ACCESS_TTL_SECONDS:soon".
DEV_ARGS ?=
# Every recipe that needs the toolchain evaluates its environment first (and stops if
# setting it up failed: `eval "$(...)"` alone would hide that).
# CI builds from a fresh clone once: incremental compilation's notes would only cost time.
ifdef CI
export CARGO_INCREMENTAL := 0
endif
TOOLCHAIN := toolchain_env=$$(scripts/toolchain.sh) || exit 1; eval "$$toolchain_env"
WRANGLER := "$$LOGIN_NODE" "$$LOGIN_WRANGLER"
WORKER_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock

.PHONY: dev test checks client worker lint unit e2e bench profile fuzz toolchain dev-secrets clean import importer

## dev: build the worker and serve it on http://127.0.0.1:$(PORT) with local D1, KV and Durable Objects; DEV_ARGS go to wrangler dev
dev: worker dev-secrets
	@$(TOOLCHAIN); \
	$(WRANGLER) d1 migrations apply DB --local </dev/null >/dev/null; \
	echo "Serving the /login API on http://127.0.0.1:$(PORT) (local state in .wrangler/state; GET /__scheduled runs the Cron Trigger)"; \
	exec $(WRANGLER) dev --ip 127.0.0.1 --port $(PORT) --test-scheduled $(DEV_ARGS)

## import: FROM=<dump.sql|users.csv ...> into the local D1 that make dev serves (ENV=production: the remote one); DEFAULT_ROLE=<id|none>, REPORT=<file>, DRY_RUN=1, FRESH=1 (a fresh local database: the old one is moved aside)
FROM ?=
DEFAULT_ROLE ?=
REPORT ?= import-report.csv
DRY_RUN ?=
FRESH ?=
# Only an ENV given on make's command line: the shell's own ENV (a POSIX start-up file)
# must never send an import to production.
IMPORT_ENV := $(if $(filter command line,$(origin ENV)),$(filter-out local,$(ENV)))
import: importer dev-secrets
	@$(TOOLCHAIN); test -n "$(FROM)" || { echo "usage: make import FROM=<dump.sql|users.csv ...> [ENV=production] [DEFAULT_ROLE=<id>|none] [REPORT=<file>] [DRY_RUN=1] [FRESH=1]"; exit 2; }; \
	if [ -z "$(IMPORT_ENV)" ]; then \
		if [ -n "$(FRESH)" ] && [ -z "$(DRY_RUN)" ] && [ -d .wrangler/state ]; then \
			if curl -s -o /dev/null --max-time 2 http://127.0.0.1:$(PORT)/healthz; then \
				echo "make dev is serving on port $(PORT): stop it first, then run this again (FRESH=1 replaces the database it serves)"; exit 1; \
			fi; \
			aside=.wrangler/state.before-import-$$(date +%Y%m%d-%H%M%S); mv .wrangler/state "$$aside"; \
			echo "The local state that was here is in $$aside."; \
		fi; \
		$(WRANGLER) d1 migrations apply DB --local </dev/null >/dev/null; \
	elif [ -z "$(DRY_RUN)" ]; then \
		$(WRANGLER) d1 migrations apply DB --remote --env "$(IMPORT_ENV)" </dev/null; \
	fi; \
	target/debug/login-import --report "$(REPORT)" $(if $(IMPORT_ENV),--env "$(IMPORT_ENV)") $(if $(DEFAULT_ROLE),--default-role "$(DEFAULT_ROLE)") $(if $(DRY_RUN),--dry-run) $(FROM)

# The importer: a native build, whose hashing crates are optimized (see Cargo.toml).
importer:
	@$(TOOLCHAIN); cargo build --quiet --bin login-import

## test: formatting, clippy, native unit tests, then end-to-end tests against the real worker
# The release wasm builds beside the checks and the native builds (its own profile and
# target, so neither waits for the other's lock): the wasm's last step, one codegen unit
# with LTO, keeps only one core busy. -O prints each one's output whole when it ends. The
# toolchain is set up first, once: two set-ups at once would both install what is missing.
test: toolchain dev-secrets
	@$(MAKE) --no-print-directory -j2 -O checks worker
	@$(MAKE) --no-print-directory e2e

# lint builds every native test binary as it lints; unit then only runs its tests.
checks:
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory client

## client: the JavaScript client (clients/js): its types from public/openapi.json, dist/, the type test, and its size
client: clients/js/dist/index.js

clients/js/dist/index.js: clients/js/src/index.ts clients/js/build.mjs clients/js/tsconfig.json clients/js/test/types.ts clients/js/test/tsconfig.json public/openapi.json package-lock.json
	@$(TOOLCHAIN); "$$LOGIN_NODE" clients/js/build.mjs

## bench: throughput, latency, ratios (also against bench/floor and bench/js-baseline), wasm size and memory, written to BENCHMARKS.md
bench: worker importer
	@$(TOOLCHAIN); command -v wrk >/dev/null || scripts/apt-install.sh wrk; \
	floor=bench/floor/build/worker/shim.mjs; \
	if [ ! -e $$floor ] || [ -n "$$(find bench/floor/src bench/floor/Cargo.toml bench/floor/Cargo.lock -newer $$floor)" ]; then \
		(cd bench/floor && CARGO_TARGET_DIR="$(CURDIR)/target/bench-floor" "$$WORKER_BUILD" --release) >/dev/null 2>&1 \
			|| { echo "the floor's build failed; run: cd bench/floor && CARGO_TARGET_DIR=$(CURDIR)/target/bench-floor $$WORKER_BUILD --release"; exit 1; }; \
	fi; \
	scripts/build-worker.sh build-bench --features bench >/dev/null; \
	python3 bench/run.py

## profile: where one endpoint's time goes in the worker (V8's CPU profile under load), ARGS="login 1 5" (route, concurrency, seconds; add js for the JS baseline)
profile:
	@$(TOOLCHAIN); command -v wrk >/dev/null || scripts/apt-install.sh wrk; \
	case " $(ARGS) " in *" js "*) ;; *) LOGIN_WASM_KEEP_NAMES=1 scripts/build-worker.sh build-profile >/dev/null;; esac; \
	python3 bench/profile_endpoint.py $(ARGS)

## fuzz: cargo fuzz (nightly) on request bodies and token verification, FUZZ_SECONDS (600) each; ARGS=token_verify runs one; not part of make test
fuzz:
	@scripts/fuzz.sh $(ARGS)

toolchain:
	@$(TOOLCHAIN)

# clippy's lints run inside the native build of every target (scripts/cargo-clippy-build.sh),
# so the dependencies are compiled once, not checked and then built.
# scripts/module-cycles.py: no two files of src/ import each other in a circle.
lint:
	@$(TOOLCHAIN); cargo fmt --check && scripts/cargo-clippy-build.sh test --all-targets --no-run --quiet \
		&& python3 scripts/module-cycles.py

# The library's tests, and the fuzz targets' checks on their seeds (tests/fuzz_seeds.rs).
unit:
	@$(TOOLCHAIN); scripts/cargo-clippy-build.sh test --lib --test fuzz_seeds --quiet

e2e: worker client
	@scripts/e2e.sh $(ARGS)

## worker: the release wasm and its JavaScript shim, rebuilt only when a source changed; and the demo page's client
worker: build/worker/shim.mjs build/wrangler.toml public/login-client.js

# The JavaScript client (clients/js) as the demo page loads it: one minified module,
# served with the page's other static assets.
public/login-client.js: clients/js/src/index.ts clients/js/build.mjs
	@$(TOOLCHAIN); "$$LOGIN_NODE" clients/js/build.mjs --bundle $@

# The configuration wrangler runs the built worker with: wrangler.toml without its build
# step. scripts/build-worker.sh writes it with the wasm; this writes it again when only
# wrangler.toml changed (a new var needs no new wasm), after the wasm's build (order only).
build/wrangler.toml: wrangler.toml scripts/prebuilt-config.sh | build/worker/shim.mjs
	@scripts/prebuilt-config.sh build

# .tools/wasm-std-mode: which std scripts/toolchain.sh found for the wasm.
build/worker/shim.mjs: $(WORKER_SOURCES) scripts/build-worker.sh $(wildcard .tools/wasm-std-mode)
	@$(TOOLCHAIN); scripts/build-worker.sh

# The local secrets (JWT_SECRET, SMS_CODE_SECRET) in .dev.vars: random, made once,
# never committed (.gitignore).
dev-secrets:
	@scripts/dev-secrets.sh

clean:
	rm -rf build build-bench build-profile target/e2e .wrangler
