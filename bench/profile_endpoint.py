"""`make profile ARGS="login 1 5"`: where one endpoint's time goes inside the worker.
(`ARGS="login 1 5 js"`: the same of bench/js-baseline, which also has `login-with-limits`.)

Serves the release worker, with the names of its wasm functions kept, under `wrangler
dev` as `make bench` does (the same variables), puts load on one endpoint with wrk (the
concurrency and seconds given) and records V8's CPU profile of the isolate meanwhile
(bench/cpu-profile.mjs, through the inspector). It prints, per request:

- the time the isolate waited: V8's "(idle)" samples, and whatever an interval between
  two samples lasted beyond the sampler's usual one, when the isolate ran nothing (D1,
  KV and the objects answering, the network, the next request coming);
- the CPU time it spent, split by the part of the worker it was in: PBKDF2 (WebCrypto's
  deriveBits), the Durable Objects' calls from the worker and their handling in the
  objects, D1, KV, and everything else, with the functions that took it.

The profile is kept in build-profile/ for Chrome's DevTools (Performance, load profile).
The sampling profiler costs time itself: the figures are for comparing builds and parts,
not for the absolute speed, which `make bench` measures.
"""

import collections
import json
import os
import re
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in bench/ by the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (bench/run.py: the same worker, variables and wrk script)

CONFIG = os.path.join(run.ROOT, "build-profile", "wrangler.toml")

# A part of the worker is named by a pattern on a function's name: the first part that
# any function of a sample's stack matches gets the sample.
RUST = r"^<?login_worker\[[0-9a-f]+\]::"
PARTS = [
    ("PBKDF2 (WebCrypto deriveBits)", r"^deriveBits$"),
    # Not anchored: the objects' handlers are inlined into wasm-bindgen's promise glue.
    ("Durable Objects: handling the calls",
     r"login_worker\[[0-9a-f]+\]::cloudflare::(rate_window::RateWindow|sms_gate::SmsGate|"
     r"refresh_family::RefreshFamily)>::(fetch|alarm)"),
    ("Durable Objects: the worker's calls", RUST + r"cloudflare::durable::"),
    ("D1", RUST + r"cloudflare::d1_user_store::"),
    ("KV", RUST + r"cloudflare::kv_stores::"),
    ("tokens: signing, verifying", RUST + r"(app::session::|domain::token::|domain::key_ring::)"),
]


def clean(name):
    return re.sub(r"\[[0-9a-f]{16}\]", "", name or "(anonymous)")


def analyse(profile, requests):
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    samples, deltas = profile["samples"], profile["timeDeltas"]
    # The sampler ticks at a steady interval while the isolate runs, longer than the
    # 100 µs asked (docs/performance.md, "Profile sampling"); an interval longer than
    # usual means the isolate sat idle for the excess, which is waiting, not CPU of the
    # last function that ran before it.
    interval = statistics.median(deltas[1:]) if len(deltas) > 1 else 0
    waited = 0
    parts = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    for index, node in enumerate(samples):
        # A sample stands for the time until the next one.
        micros = deltas[index + 1] if index + 1 < len(deltas) else 0
        stack = []
        while node is not None:
            stack.append(nodes[node]["callFrame"]["functionName"])
            node = parent.get(node)
        if stack[0] == "(idle)":
            waited += micros
            continue
        ran = min(micros, interval)
        waited += micros - ran
        micros = ran
        part = next((label for label, pattern in PARTS if any(re.search(pattern, f) for f in stack)), "the rest")
        parts[part] += micros
        leaves[part][clean(stack[0])] += micros
    per = lambda micros: micros / requests / 1000  # noqa: E731
    total = sum(parts.values()) + waited
    print(f"\n{requests} requests; per request: {per(total):.2f} ms in all, {per(waited):.2f} ms waiting, "
          f"{per(sum(parts.values())):.2f} ms of CPU in the isolate:")
    for part, micros in parts.most_common():
        print(f"  {per(micros):7.3f} ms  {part}")
        for leaf, leaf_micros in leaves[part].most_common(6):
            if per(leaf_micros) >= 0.01:
                print(f"  {'':9}  {per(leaf_micros):6.3f}  {leaf[:110]}")


def main():
    args = sys.argv[1:]
    js = "js" in args
    args = [arg for arg in args if arg != "js"]
    routes = {"healthz", "status", "login"} | ({"login-with-limits"} if js else {"refresh", "send", "sms"})
    route = args[0] if args else "login"
    if route not in routes:
        sys.exit(f"usage: make profile ARGS=\"ROUTE [CONCURRENCY] [SECONDS] [js]\"; ROUTE one of {sorted(routes)}")
    try:
        concurrency = int(args[1]) if len(args) > 1 else 1
        seconds = int(args[2]) if len(args) > 2 else 5
    except ValueError:
        sys.exit("usage: make profile ARGS=\"ROUTE [CONCURRENCY] [SECONDS] [js]\": whole numbers")
    worker = run.js_baseline() if js else run.Worker(config=CONFIG)
    try:
        base = worker.base
        tokens = run.post(base, "/login/jwt/get", {"account": "bench", "pwd": run.PASSWORD})["data"] if js \
            else run.register_bench_account(base)
        login = {"BENCH_BODY": json.dumps({"account": "bench", "pwd": run.PASSWORD})}
        path, env = {
            "healthz": ("/healthz", {"BENCH_METHOD": "GET"}),
            "status": ("/login/jwt/status", {"BENCH_BODY": json.dumps({"jwt": tokens["jwt"]})}),
            "refresh": ("/login/jwt/refresh", {"BENCH_BODY": json.dumps({"jwt": tokens.get("refresh_jwt")})}),
            "login": ("/login/jwt/get", login),
            "login-with-limits": ("/login/jwt/get-with-limits", login),
            "send": ("/login/send/sms", {"BENCH_BODY": '{"phone":"{phone}"}'}),
            "sms": ("/login/jwt/sms", {}),
        }[route]
        # A code sign-in uses each code once: its codes for the warm-up and the measure
        # are sent (and their users written) under two keys of their own.
        codes = lambda key: {"BENCH_CODES": run.login_codes(worker, key)}  # noqa: E731
        if route == "sms":
            run.SIGN_INS = {key: 80 * seconds * (1 if concurrency == 1 else 3) for key in (1, 2)}
            env = codes(1)
        # A warm isolate, as the requests measured find it.
        run.wrk(base, path, concurrency, "endpoint.lua", env, seconds=2)
        if route == "sms":
            env = codes(2)
        os.makedirs(os.path.join(run.ROOT, "build-profile"), exist_ok=True)
        out = os.path.join(run.ROOT, "build-profile", f"{'js-' if js else ''}{route}-c{concurrency}.cpuprofile")
        recorder = subprocess.Popen([os.environ["LOGIN_NODE"], os.path.join(run.BENCH, "cpu-profile.mjs"),
                                     str(worker.inspector_port), out],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if recorder.stdout.readline().strip() != "started":
            sys.exit("the CPU profiler did not start")
        result = run.wrk(base, path, concurrency, "endpoint.lua", env, seconds=seconds)
        recorder.stdin.close()
        if recorder.wait(timeout=60) != 0:
            sys.exit("the CPU profiler failed")
        print(f"{route} ({path}) at c={concurrency} for {seconds} s: {result['rps']:.1f} req/s, "
              f"p50 {result['p50_us'] / 1000:.2f} ms, statuses {result['statuses']} (profiled, so slower)")
        with open(out) as f:
            analyse(json.load(f), result["requests"])
        print(f"\nThe profile: {os.path.relpath(out, run.ROOT)}")
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
