#!/usr/bin/env python3
"""`make bench`: the release worker (plus a bench-only PBKDF2 route) under `wrangler dev`,
measured in one run with wrk, and a summary table printed and written to BENCHMARKS.md.
Baselines of the project's own run next to it, each under its own `wrangler dev`:
bench/floor (a bare workers-rs Worker: GET /healthz), served alone and behind the
project's `[assets]` section, and bench/js-baseline (a plain JavaScript Worker doing the
login and status work); the project's worker and the baselines are measured in
interleaved rounds, so that the ratios between them come from one run.

Ratios are what this reports; nothing here asserts a timing. Run through `make bench`,
which builds the worker and sets up the toolchain (LOGIN_NODE, LOGIN_WRANGLER, ...)."""

import concurrent.futures
import datetime
import gzip
import http.server
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
MIXED_SECONDS = int(os.environ.get("BENCH_MIXED_SECONDS", "50"))
PASSWORD = "bench_password_1"
JWT_SECRET = "bench-secret-that-is-longer-than-32-bytes"
# Rounds of the interleaved measures against the baselines.
ROUNDS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Written by scripts/prebuilt-config.sh: the bench build, with no build step to rerun.
CONFIG = os.path.join(ROOT, "build-bench", "wrangler.toml")
# The baselines: the floor is built by `make bench` (into bench/floor/build); the JS
# baseline has no build step.
FLOOR_DIR = os.path.join(BENCH, "floor")
JS_DIR = os.path.join(BENCH, "js-baseline")

# The project's worker's variables under bench.
PROJECT_VARS = [
    "JWT_SECRET:" + JWT_SECRET,
    "SMS_CODE_SECRET:bench-sms-code-secret-that-is-longer-than-32-bytes",
    # Every request comes from 127.0.0.1: the per-IP send limit would stop the
    # send benchmarks after 20 requests, so it is lifted here.
    "SMS_HOURLY_LIMIT_PER_IP:1000000",
    # The same for failed logins, which the failure-path rows repeat on purpose.
    "LOGIN_FAILURES_PER_ACCOUNT_AND_IP:1000000", "LOGIN_FAILURES_PER_ACCOUNT:1000000",
    "LOGIN_FAILURES_PER_IP:1000000", "CODE_ATTEMPTS_PER_IP:1000000",
]


def wrangler(*args, config=CONFIG, cwd=ROOT, **kwargs):
    command = [os.environ["LOGIN_NODE"], os.environ["LOGIN_WRANGLER"], *args, "--config", config]
    return subprocess.run(command, cwd=cwd, **kwargs)


def post(base, path, body):
    request = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)


# The phone the bench account is registered with.
PHONE = "13800000000"


def register_bench_account(base, account="bench", phone=PHONE):
    """Registers `account` on the project's worker at `base` (a fresh state) and logs it
    in: its tokens."""
    code = post(base, "/login/send/sms", {"phone": phone})["data"]["code"]
    registered = post(base, "/login/register", {"account": account, "password": PASSWORD,
                                                "password_confirmation": PASSWORD, "phone": phone, "code": code})
    assert registered["code"] == 200, registered
    return post(base, "/login/jwt/get", {"account": account, "pwd": PASSWORD})["data"]


def user_with_ten_sessions(base):
    """An access token of a user with 10 sessions ("your devices" lists them all): the
    account "devices", logged in 10 times; each login's session is recorded after its
    answer, so the list is waited for."""
    jwt = register_bench_account(base, "devices", "13800000001")["jwt"]
    for _ in range(9):
        post(base, "/login/jwt/get", {"account": "devices", "pwd": PASSWORD})
    for _ in range(100):
        if len(post(base, "/login/sessions/list", {"jwt": jwt})["data"]) == 10:
            return jwt
        time.sleep(0.05)
    raise AssertionError("the 10 sessions were never listed")


# Login codes sent ahead of a sign-in row: more than a row can use at the rate a code
# sign-in is expected to go (a few hundred a second at most here).
SIGN_INS = {1: 800, 16: 1600}


def login_codes(worker, concurrency):
    """Users without a password (as a code sign-in makes them), written straight into the
    worker's local D1, and a login code sent to each: a file of "phone code" lines for
    bench/endpoint.lua's BENCH_CODES, one sign-in each."""
    count = SIGN_INS[concurrency]
    phones = [f"137{concurrency:02d}{i:06d}" for i in range(count)]
    rows = [f"('sms_{concurrency}_{i}', 'sms_{concurrency}_{i}', '+86{phone}', '!', 0)" for i, phone in enumerate(phones)]
    sql = os.path.join(worker.state, f"sms-users-{concurrency}.sql")
    with open(sql, "w") as f:
        # 100 rows a statement: SQLite takes at most 500 in one VALUES list.
        for start in range(0, count, 100):
            f.write("INSERT INTO users (account, account_key, phone, password_hash, created_at) VALUES\n"
                    + ",\n".join(rows[start:start + 100]) + ";\n")
    wrangler("d1", "execute", "DB", "--local", "--persist-to", worker.state, "--file", sql,
             check=True, capture_output=True)

    def send(phone):
        sent = post(worker.base, "/login/send/sms", {"phone": phone, "purpose": "login"})
        assert sent["code"] == 200, sent
        return f"{phone} {sent['data']['code']}"

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        lines = list(pool.map(send, phones))
    path = os.path.join(worker.state, f"sms-codes-{concurrency}.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def js_baseline():
    """The JavaScript baseline under `wrangler dev`, its account made; its limited login
    gets the project's limits of this run."""
    limits = [v for v in PROJECT_VARS if v.startswith("LOGIN_FAILURES_")]
    worker = Worker(os.path.join(JS_DIR, "wrangler.toml"), JS_DIR, ["JWT_SECRET:" + JWT_SECRET, *limits], None)
    assert post(worker.base, "/setup", {})["code"] == 200
    return worker


def floor_behind_assets():
    """The floor's build served behind the project's own `[assets]` section (its folder and
    its `run_worker_first` paths, read from wrangler.toml): beside the floor alone, what
    `wrangler dev`'s assets router costs a Worker's `/healthz`, which the project pays too.
    Its configuration is written next to the floor's build, in target/."""
    with open(os.path.join(ROOT, "wrangler.toml"), "rb") as f:
        assets = tomllib.load(f)["assets"]
    with open(os.path.join(FLOOR_DIR, "wrangler.toml"), "rb") as f:
        floor = tomllib.load(f)
    config = os.path.join(ROOT, "target", "bench-floor", "wrangler-assets.toml")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    # JSON strings and lists are TOML's too.
    with open(config, "w") as f:
        f.write(f'name = "bench-floor-assets"\n'
                f'main = {json.dumps(os.path.join(FLOOR_DIR, floor["main"]))}\n'
                f'compatibility_date = {json.dumps(floor["compatibility_date"])}\n\n'
                f'[assets]\ndirectory = {json.dumps(os.path.join(ROOT, assets["directory"]))}\n'
                f'run_worker_first = {json.dumps(assets["run_worker_first"])}\n')
    return Worker(config, FLOOR_DIR, [], None)


class Worker:
    """wrangler dev on one worker's config (by default the project's bench build), with
    local state of its own, in its own process group."""

    def __init__(self, config=CONFIG, cwd=ROOT, variables=PROJECT_VARS, schema="schema.sql"):
        self.state = tempfile.mkdtemp(prefix="login-bench-")
        self.port = free_port()
        # V8's inspector for the worker (bench/profile_endpoint.py records CPU profiles through it).
        self.inspector_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if schema:
            wrangler("d1", "execute", "DB", "--local", "--persist-to", self.state, "--file", schema,
                     config=config, cwd=cwd, check=True, capture_output=True)
        self.log = open(os.path.join(self.state, "wrangler.log"), "w")
        self.stopped = False
        var_args = [arg for variable in variables for arg in ("--var", variable)]
        self.process = subprocess.Popen(
            [os.environ["LOGIN_NODE"], os.environ["LOGIN_WRANGLER"], "dev", "--config", config,
             "--ip", "127.0.0.1", "--port", str(self.port), "--inspector-port", str(self.inspector_port),
             "--persist-to", self.state, "--show-interactive-dev-session=false", "--log-level", "warn",
             *var_args],
            cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        # The log is in the state folder, which stop() removes: keep a copy for the message.
        self.log.close()
        log = self.state + "-wrangler.log"
        shutil.copy(self.log.name, log)
        self.stop()
        sys.exit(f"wrangler dev ({config}) did not start; see {log}")

    def workerd_peak_rss_kib(self):
        """The largest peak resident set (VmHWM) among the group's workerd processes."""
        peak = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.getpgid(int(pid)) != self.process.pid:
                    continue
                with open(f"/proc/{pid}/status") as status:
                    fields = dict(line.split(":", 1) for line in status if ":" in line)
                if fields.get("Name", "").strip() == "workerd":
                    peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
            except (OSError, ValueError):
                continue
        return peak

    def stop(self):
        # Once only: a second signal to a process group already gone could reach another.
        if self.stopped:
            return
        self.stopped = True
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.state, ignore_errors=True)


RUNS = iter(range(100))


def wrk(base, path, concurrency, script, env, seconds=SECONDS, threads=None):
    threads = threads or min(concurrency, 2)
    env = {**env, "BENCH_RUN": str(next(RUNS)), "BENCH_THREADS": str(threads)}
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s",
               "-s", os.path.join(BENCH, script), base + path]
    output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    if output.stderr.strip():
        print(output.stderr.strip(), file=sys.stderr)
    line = next(l for l in output.stdout.splitlines() if l.startswith("BENCH_RESULT "))
    result = json.loads(line[len("BENCH_RESULT "):])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def non_2xx(result):
    return sum(n for s, n in result["statuses"].items() if not 200 <= int(s) < 300) + result["socket_errors"]


def interleaved(workers, cases):
    """Measures every case on each of its workers in ROUNDS rounds. In a round, the workers
    of one case run back to back, at c=1 and then at c=16; their order rotates by one each
    round, so that no worker always goes first or last. Returns {(case, concurrency,
    worker): [result of each round]}."""
    runs = {}
    for round_index in range(ROUNDS):
        print(f"  round {round_index + 1} of {ROUNDS}", flush=True)
        for name, path, envs in cases:
            names = list(envs)
            shift = round_index % len(names)
            order = names[shift:] + names[:shift]
            for concurrency in (1, 16):
                for who in order:
                    where = path[who] if isinstance(path, dict) else path
                    result = wrk(workers[who].base, where, concurrency, "endpoint.lua", envs[who])
                    runs.setdefault((name, concurrency, who), []).append(result)
                    print(f"    {who:8} {name:20} c={concurrency:<3} {result['rps']:8.1f} req/s"
                          f"  p50 {result['p50_us']/1000:7.2f} ms  p99 {result['p99_us']/1000:7.2f} ms"
                          f"  non-2xx {non_2xx(result)}", flush=True)
                this = {who: runs[(name, concurrency, who)][-1] for who in names}
                ratios = [f"project÷{who} req/s {this['project']['rps'] / this[who]['rps']:.2f}"
                          for who in names if who != "project"]
                for who in [w for w in names if w != "project"][:1]:
                    ratios.append(f"project÷{who} p50 {this['project']['p50_us'] / max(this[who]['p50_us'], 1):.2f}")
                print(f"    {'':8} {name:20} c={concurrency:<3} " + ", ".join(ratios), flush=True)
    return runs


class SlowReceiver:
    """The app's endpoint for events at its slowest: it answers each delivery after `seconds`
    (without checking it; the end-to-end tests check the signatures)."""

    def __init__(self, seconds=5):
        receiver = self
        self.received = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received += 1
                time.sleep(seconds)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def stop(self):
        self.server.shutdown()


EVENTS_CASE = "/login/jwt/get, events on ÷ off"
# How long the bench's receiver of events takes over each.
RECEIVER_SECONDS = float(os.environ.get("BENCH_RECEIVER_SECONDS", "5"))


def events_cost():
    """Logins with events on (each a user.signed_in, queued after the answer and delivered
    to a receiver that takes RECEIVER_SECONDS to answer) against the same logins with
    events off, each on a fresh worker of its own (workerd grows with what it has served,
    so a worker that served the rest of the bench would not compare), in interleaved
    rounds. Returns the runs and how many deliveries the receiver got meanwhile."""
    receiver = SlowReceiver(RECEIVER_SECONDS)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    workers = {}
    try:
        workers["project"] = Worker()
        workers["events"] = Worker(variables=PROJECT_VARS + [f"EVENTS_WEBHOOK_URL:{receiver.url}",
                                                             f"EVENTS_WEBHOOK_SECRET:{secret}"])
        for worker in workers.values():
            register_bench_account(worker.base)
        login = {"BENCH_BODY": json.dumps({"account": "bench", "pwd": PASSWORD})}
        print(f"Events on and off: {ROUNDS} interleaved rounds, {SECONDS} s per worker and row", flush=True)
        runs = interleaved(workers, [(EVENTS_CASE, "/login/jwt/get", {"project": login, "events": login})])
    finally:
        for worker in workers.values():
            worker.stop()
        receiver.stop()
    return runs, receiver.received


def events_rows(runs, received):
    """The markdown rows of `events_cost`: the events worker over the one without, medians
    of the rounds' ratios."""
    lines = []
    for concurrency in (1, 16):
        on, off = runs[(EVENTS_CASE, concurrency, "events")], runs[(EVENTS_CASE, concurrency, "project")]
        ratio = {key: statistics.median(a[key] / max(b[key], 1) for a, b in zip(on, off)) for key in ("rps", "p50_us")}
        p50s = " / ".join(f"{statistics.median(r['p50_us'] for r in rs) / 1000:.2f}" for rs in (on, off))
        lines.append(f"| /login/jwt/get | {concurrency} | {p50s} | {ratio['p50_us']:.2f} | {ratio['rps']:.2f} "
                     f"| {sum(non_2xx(r) for r in on + off)} |")
    lines += ["", f"The receiver got {received:,} deliveries during the rounds, each answered after "
                  f"{RECEIVER_SECONDS:g} s."]
    return lines


def against_baselines(runs, cases):
    """The markdown rows of the interleaved measures: medians over the rounds."""
    def median_ratio(name, concurrency, who, key):
        project = runs[(name, concurrency, "project")]
        other = runs[(name, concurrency, who)]
        return statistics.median(p[key] / max(o[key], 1) for p, o in zip(project, other))

    def median(name, concurrency, who, key):
        return statistics.median(r[key] for r in runs[(name, concurrency, who)])

    lines = []
    for name, path, envs in cases:
        for concurrency in (1, 16):
            rps = " / ".join(f"{median(name, concurrency, who, 'rps'):.1f}" if who in envs else "–"
                             for who in ("project", "js", "floor"))
            p50 = " / ".join(f"{median(name, concurrency, who, 'p50_us') / 1000:.2f}" if who in envs else "–"
                             for who in ("project", "js", "floor"))
            floor = f"{median_ratio(name, concurrency, 'floor', 'rps'):.2f}" if "floor" in envs else "–"
            wrong = " / ".join(str(sum(non_2xx(r) for r in runs[(name, concurrency, who)])) if who in envs else "–"
                               for who in ("project", "js", "floor"))
            lines.append(f"| {name} | {concurrency} | {rps} | {p50} | {floor} "
                         f"| {median_ratio(name, concurrency, 'js', 'rps'):.2f} "
                         f"| {median_ratio(name, concurrency, 'js', 'p50_us'):.2f} | {wrong} |")
    return lines


def platform_bounds(runs, mixed, own_seconds):
    """The markdown rows that set each speed target beside the same measure of a baseline
    doing the same or less, from the interleaved rounds; for the mixed load, an estimate
    from the baselines' costs (and one with `own_seconds`, this worker's own cost of its
    sends and refreshes as measured alone). A ratio is the median of the rounds' ratios."""
    def rounds(name, concurrency, who, key="rps"):
        return [r[key] for r in runs[(name, concurrency, who)]]

    median = statistics.median

    def ratio(a, b):
        return median(x / max(y, 1e-9) for x, y in zip(a, b))

    health, status, login, limited = ("GET /healthz", "/login/jwt/status", "/login/jwt/get",
                                      "/login/jwt/get, JS with limits")
    lines = []
    for c in (1, 16):
        lines.append(
            f"| `/healthz` ÷ floor, req/s, c={c} ≥ 0.95 | {ratio(rounds(health, c, 'project'), rounds(health, c, 'floor')):.2f} "
            f"| the floor behind the project's `[assets]` ÷ the floor: "
            f"{ratio(rounds(health, c, 'assets'), rounds(health, c, 'floor')):.2f} "
            f"({median(rounds(health, c, 'assets')):.1f} ÷ {median(rounds(health, c, 'floor')):.1f} req/s); "
            f"the project ÷ the floor behind them: "
            f"{ratio(rounds(health, c, 'project'), rounds(health, c, 'assets')):.2f} (its non-2xx: "
            f"{sum(non_2xx(r) for r in runs[(health, c, 'assets')])}) |")
    for c in (1, 16):
        lines.append(
            f"| ratio A, status ÷ `/healthz` req/s, c={c} ≥ 0.8 | "
            f"{ratio(rounds(status, c, 'project'), rounds(health, c, 'project')):.2f} "
            f"| the JavaScript baseline's own status ÷ its `/healthz` (no `[assets]` router before either): "
            f"{ratio(rounds(status, c, 'js'), rounds(health, c, 'js')):.2f} |")
    lines.append(
        f"| login p50 ÷ the JavaScript baseline's, c=1 ≤ 1.0 | "
        f"{ratio(rounds(login, 1, 'project', 'p50_us'), rounds(login, 1, 'js', 'p50_us')):.2f} "
        f"| the JavaScript baseline's own login with the limits ÷ without them, p50: "
        f"{ratio(rounds(limited, 1, 'js', 'p50_us'), rounds(login, 1, 'js', 'p50_us')):.2f} |")
    lines.append(
        f"| login req/s ÷ the JavaScript baseline's, c=16 ≥ 1.0 | "
        f"{ratio(rounds(login, 16, 'project'), rounds(login, 16, 'js')):.2f} "
        f"| the JavaScript baseline's own login with the limits ÷ without them, req/s: "
        f"{ratio(rounds(limited, 16, 'js'), rounds(login, 16, 'js')):.2f} |")
    # An estimate of the mixed load at the costs of requests measured alone at c=16 (one
    # over their req/s), each flow at the cheapest measure of the same or less work: its
    # logins at the JavaScript baseline's with the limits, its good statuses at the faster
    # of the two workers' status, and every other flow at the bare floor's `/healthz`, the
    # least a request to a Worker costs here. Sends and refreshes have no baseline of their
    # own: pricing them at `/healthz` leaves their own cost out of the estimate.
    counts = mixed_flows()
    flows, hashing, statuses = counts["flows"], counts["hashing"], counts["statuses"]
    sends_and_refreshes = counts["sends"] + counts["refreshes"]
    login_cost = 1 / median(rounds(limited, 16, "js"))
    status_cost = 1 / max(median(rounds(status, 16, "project")), median(rounds(status, 16, "js")))
    floor_cost = 1 / median(rounds(health, 16, "floor"))
    # A cycle of the mix but for its sends and refreshes, which are priced apart.
    rest = hashing * login_cost + statuses * status_cost + (flows - hashing - statuses - sends_and_refreshes) * floor_cost
    estimate = flows / (rest + sends_and_refreshes * floor_cost) * mixed["seconds"]
    with_own = flows / (rest + own_seconds) * mixed["seconds"]
    lines.append(
        f"| mixed load, requests in {mixed['seconds']:.0f} s ≥ 15,000 | {mixed['checked']:,} "
        f"| an estimate at the baselines' costs: {estimate:,.0f} (this worker reached {mixed['checked'] / estimate:.2f} × it): "
        f"its {hashing} logins at the JavaScript baseline's with the limits, its {statuses} statuses at the faster "
        f"status, its {flows - hashing - statuses} other flows (the send and the refreshes among them) at the bare "
        f"floor's `/healthz`, each at c=16; with the send and the refreshes at this worker's own cost alone "
        f"(the rows above): {with_own:,.0f} |")
    return lines


IMPORT_USERS = int(os.environ.get("BENCH_IMPORT_USERS", "10000"))


def mixed_flows():
    """What bench/mixed.lua cycles through: how many flows, how many of them hash a password
    ("hashing"), check a good token's status ("statuses"), send a code ("sends") or refresh
    a session ("refreshes")."""
    with open(os.path.join(ROOT, "bench", "mixed.lua")) as f:
        script = f.read()
    table = script[script.index("local flows = {"):script.index("\n}\n", script.index("local flows = {"))]
    counts = {
        "flows": table.count("function()"),
        "hashing": table.count('"/login/jwt/get", \'{"account"'),
        "statuses": table.count('"/login/jwt/status", \'{"jwt":"\' .. jwt'),
        "sends": table.count('"/login/send/sms"'),
        "refreshes": table.count('"/login/jwt/refresh"'),
    }
    named = sum(n for name, n in counts.items() if name != "flows")
    assert all(counts.values()) and named < counts["flows"], counts
    return counts


def import_timing():
    """`make import` of a generated dump of IMPORT_USERS users (bench/legacy_dump.py) into
    a fresh local D1: the importer's own summary and timing lines."""
    scratch = tempfile.mkdtemp(prefix="bench-import-")
    try:
        dump = os.path.join(scratch, "dump.sql")
        with open(dump, "w") as f:
            subprocess.run([sys.executable, os.path.join(BENCH, "legacy_dump.py"), str(IMPORT_USERS)], stdout=f, check=True)
        state = os.path.join(scratch, "state")
        wrangler("d1", "migrations", "apply", "DB", "--local", "--persist-to", state, config=os.path.join(ROOT, "wrangler.toml"),
                 stdin=subprocess.DEVNULL, capture_output=True, check=True)
        print(f"Importing {IMPORT_USERS:,} users", flush=True)
        done = subprocess.run([os.path.join(ROOT, "target", "debug", "login-import"), "--config", "wrangler.toml",
                               "--persist-to", state, "--report", os.path.join(scratch, "report.csv"), dump],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the import failed:\n{done.stdout}{done.stderr}")
        lines = [l for l in done.stdout.splitlines() if l.startswith(("Imported", "Timing"))]
        print("\n".join(lines), flush=True)
        return lines
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    if os.environ.get("BENCH_ONLY") == "import":
        import_timing()
        return
    if os.environ.get("BENCH_ONLY") == "events":
        print("\n".join(events_rows(*events_cost())))
        return
    worker = Worker()
    baselines = {}
    try:
        base = worker.base
        # A user to log in as, and a session to refresh and check.
        tokens = register_bench_account(base)
        jwt, refresh_jwt = tokens["jwt"], tokens["refresh_jwt"]
        wasm_memory_start = post(base, "/__bench/memory", {})["data"]["wasm_memory_bytes"]
        doomed = post(base, "/login/jwt/get", {"account": "bench", "pwd": PASSWORD})["data"]["jwt"]
        devices_jwt = user_with_ten_sessions(base)
        post(base, "/login/jwt/deactivate", {"jwt": doomed})
        only = os.environ.get("BENCH_ONLY")

        # The baselines, and the interleaved rounds against them first, while all the
        # runtimes are fresh (workerd grows with every request it serves).
        if only != "mixed":
            baselines["floor"] = Worker(os.path.join(FLOOR_DIR, "wrangler.toml"), FLOOR_DIR, [], None)
            baselines["assets"] = floor_behind_assets()
            baselines["js"] = js_baseline()
            js_base = baselines["js"].base
            js_jwt = post(js_base, "/login/jwt/get", {"account": "bench", "pwd": PASSWORD})["data"]["jwt"]
            limited = post(js_base, "/login/jwt/get-with-limits", {"account": "bench", "pwd": PASSWORD})
            assert limited["code"] == 200, limited
            refused = post(js_base, "/login/jwt/get-with-limits", {"account": "bench", "pwd": "wrong_password"})
            assert refused["code"] == 50006, refused
            assert post(js_base, "/login/jwt/status", {"jwt": js_jwt})["code"] == 200
            get = {"BENCH_METHOD": "GET"}
            login = {"BENCH_BODY": json.dumps({"account": "bench", "pwd": PASSWORD})}
            baseline_cases = [
                ("GET /healthz", "/healthz", {"project": get, "floor": get, "js": get, "assets": get}),
                ("/login/jwt/status", "/login/jwt/status",
                 {"project": {"BENCH_BODY": json.dumps({"jwt": jwt})}, "js": {"BENCH_BODY": json.dumps({"jwt": js_jwt})}}),
                ("/login/jwt/get", "/login/jwt/get", {"project": login, "js": login}),
                # The same login against the JS baseline keeping the same limits the same
                # way (see bench/js-baseline/worker.js): what the limits cost on the platform.
                ("/login/jwt/get, JS with limits", {"project": "/login/jwt/get", "js": "/login/jwt/get-with-limits"},
                 {"project": login, "js": login}),
            ]
            print(f"Against the baselines: {ROUNDS} interleaved rounds, {SECONDS} s per worker and row", flush=True)
            baseline_runs = interleaved({"project": worker, **baselines}, baseline_cases)
            for baseline in baselines.values():
                baseline.stop()
            print(flush=True)

        cases = [
            ("GET /healthz", "/healthz", {"BENCH_METHOD": "GET"}, 200),
            ("/login/jwt/status", "/login/jwt/status", {"BENCH_BODY": json.dumps({"jwt": jwt})}, 200),
            ("/login/jwt/refresh", "/login/jwt/refresh", {"BENCH_BODY": json.dumps({"jwt": refresh_jwt})}, 200),
            ("/login/sessions/list (10 sessions)", "/login/sessions/list", {"BENCH_BODY": json.dumps({"jwt": devices_jwt})}, 200),
            ("/login/jwt/get", "/login/jwt/get", {"BENCH_BODY": json.dumps({"account": "bench", "pwd": PASSWORD})}, 200),
            ("/login/jwt/get (wrong password, 50006)", "/login/jwt/get",
             {"BENCH_BODY": json.dumps({"account": "bench", "pwd": "wrong_password"})}, 401),
            ("/login/jwt/get (unknown account, 50006)", "/login/jwt/get",
             {"BENCH_BODY": json.dumps({"account": "nobody_at_all", "pwd": "wrong_password"})}, 401),
            ("/login/send/sms (new phone each)", "/login/send/sms", {"BENCH_BODY": '{"phone":"{phone}"}'}, 200),
            ("/login/jwt/sms (a login code each)", "/login/jwt/sms", {"BENCH_CODES": None}, 200),
            ("/login/register (wrong code, 50001)", "/login/register",
             {"BENCH_BODY": json.dumps({"account": "nobody", "password": PASSWORD, "password_confirmation": PASSWORD,
                                        "phone": PHONE, "code": "000000"})}, 400),
            ("/login/jwt/deactivate (revoked, 9908)", "/login/jwt/deactivate", {"BENCH_BODY": json.dumps({"jwt": doomed})}, 401),
            ("PBKDF2 alone, WebCrypto (bench route)", "/__bench/pbkdf2", {"BENCH_BODY": "{}"}, 200),
        ]
        rows = []
        results = {}
        for name, path, env, status in [] if only == "mixed" else cases:
            for concurrency in (1, 16):
                if "BENCH_CODES" in env:
                    env = {"BENCH_CODES": login_codes(worker, concurrency)}
                result = wrk(base, path, concurrency, "endpoint.lua", env)
                wrong = sum(n for s, n in result["statuses"].items() if int(s) != status)
                if "wrong password" in name:
                    results[(path, concurrency, "wrong")] = result
                elif "unknown account" in name:
                    results[(path, concurrency, "unknown")] = result
                else:
                    results[(path, concurrency)] = result
                rows.append((name, concurrency, result["rps"], result["p50_us"] / 1000, result["p99_us"] / 1000,
                             wrong + result["socket_errors"], worker.workerd_peak_rss_kib() / 1024))
                print(f"  {name:42} c={concurrency:<3} {result['rps']:8.1f} req/s  p50 {result['p50_us']/1000:7.2f} ms"
                      f"  p99 {result['p99_us']/1000:7.2f} ms", flush=True)

        mixed = wrk(base, "/", 32, "mixed.lua", {"BENCH_JWT": jwt, "BENCH_REFRESH_JWT": refresh_jwt,
                                                "BENCH_ACCOUNT": "bench", "BENCH_PWD": PASSWORD},
                    seconds=MIXED_SECONDS, threads=32)
        peak_kib = worker.workerd_peak_rss_kib()
        wasm_memory_end = post(base, "/__bench/memory", {})["data"]["wasm_memory_bytes"]
    finally:
        worker.stop()
        for baseline in baselines.values():
            baseline.stop()
    events_runs = None if only == "mixed" else events_cost()
    if only == "mixed":
        print(mixed)
        return
    imported = import_timing()

    wasm = os.path.join(ROOT, "build", "index_bg.wasm")
    raw = os.path.getsize(wasm)
    with open(wasm, "rb") as f:
        gzipped = len(gzip.compress(f.read(), 9))

    ratio_a = {c: results[("/login/jwt/status", c)]["rps"] / results[("/healthz", c)]["rps"] for c in (1, 16)}
    # A code sign-in hashes no password: it should cost about what a status does.
    sms_p50_ratio = results[("/login/jwt/sms", 1)]["p50_us"] / results[("/login/jwt/status", 1)]["p50_us"]
    sms_rps_ratio = results[("/login/jwt/sms", 16)]["rps"] / results[("/login/jwt/status", 16)]["rps"]
    # "Your devices" for a user with 10 sessions: a status and one indexed D1 read at once.
    sessions_p50_ratio = results[("/login/sessions/list", 1)]["p50_us"] / results[("/login/jwt/status", 1)]["p50_us"]
    login_p50 = results[("/login/jwt/get", 1)]["p50_us"]
    pbkdf2_p50 = results[("/__bench/pbkdf2", 1)]["p50_us"]
    health_p50 = results[("/healthz", 1)]["p50_us"]
    ratio_b = login_p50 / (pbkdf2_p50 + health_p50)
    # An unknown account is checked against a dummy hash, so its failure costs what a
    # wrong password costs: the two medians should be equal within noise.
    wrong_p50 = results[("/login/jwt/get", 1, "wrong")]["p50_us"] if ("/login/jwt/get", 1, "wrong") in results else 0
    unknown_p50 = results[("/login/jwt/get", 1, "unknown")]["p50_us"] if ("/login/jwt/get", 1, "unknown") in results else 0

    def verdict(ok):
        return "met" if ok else "MISSED"

    # What the mixed load could reach at most on this machine: of its flows (bench/mixed.lua)
    # the ones that hash a password (a login, and one for an unknown account, which hashes
    # a dummy), at the rate the isolate hashes when hashing alone, with every other flow free.
    counts = mixed_flows()
    flows, hashing = counts["flows"], counts["hashing"]
    # This worker's own cost per cycle of the mix's sends and refreshes, measured alone at c=16.
    sends_and_refreshes_seconds = (counts["sends"] / results[("/login/send/sms", 16)]["rps"]
                                   + counts["refreshes"] / results[("/login/jwt/refresh", 16)]["rps"])
    pbkdf2_rps = results[("/__bench/pbkdf2", 16)]["rps"]
    mixed_ceiling = flows / hashing * pbkdf2_rps * mixed["seconds"]

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]

    lines = [
        "# Benchmarks",
        "",
        f"Measured {now} on {machine}, by `make bench` (bench/run.py: the release worker under",
        f"`wrangler dev`, local D1/KV/Durable Objects, load from {wrk_version} on the same machine;",
        f"{SECONDS} s per row, {MIXED_SECONDS} s of mixed load). One run; a noisy machine moves these numbers.",
        "",
        "The same run serves baselines of the project's own, each under its own `wrangler dev`",
        "on the same machine: the floor (bench/floor), a bare workers-rs Worker built like this one",
        "that answers `GET /healthz` and nothing else, served alone and behind this project's",
        "`[assets]` section, and the JavaScript baseline (bench/js-baseline/worker.js), a plain",
        "JavaScript Worker with D1, KV and WebCrypto doing the login and status work as a",
        "developer would write it in an afternoon. The ratios against them (the last two tables)",
        "were measured in this one run, interleaved with this worker's own measures.",
        "",
        "| endpoint | concurrency | requests/s | p50 ms | p99 ms | unexpected | workerd peak MiB so far |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, concurrency, rps, p50, p99, wrong, peak in rows:
        lines.append(f"| {name} | {concurrency} | {rps:.1f} | {p50:.2f} | {p99:.2f} | {wrong} | {peak:.0f} |")
    lines += [
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| ratio A: status req/s ÷ healthz req/s, c=1 | {ratio_a[1]:.2f} | ≥ 0.8: {verdict(ratio_a[1] >= 0.8)} |",
        f"| ratio A: status req/s ÷ healthz req/s, c=16 | {ratio_a[16]:.2f} | ≥ 0.8: {verdict(ratio_a[16] >= 0.8)} |",
        f"| ratio B: login p50 ÷ (WebCrypto PBKDF2 p50 + healthz p50), c=1 | {ratio_b:.2f} "
        f"({login_p50/1000:.2f} ÷ ({pbkdf2_p50/1000:.2f} + {health_p50/1000:.2f}) ms) | ≤ 1.15: {verdict(ratio_b <= 1.15)} |",
        f"| code sign-in p50 ÷ status p50, c=1 | {sms_p50_ratio:.2f} | ≤ 1.5: {verdict(sms_p50_ratio <= 1.5)} |",
        f"| code sign-in req/s ÷ status req/s, c=16 | {sms_rps_ratio:.2f} | ≥ 0.5: {verdict(sms_rps_ratio >= 0.5)} |",
        f"| sessions list (10 sessions) p50 ÷ status p50, c=1 | {sessions_p50_ratio:.2f} | ≤ 2: {verdict(sessions_p50_ratio <= 2)} |",
        f"| failed login p50, unknown account vs wrong password, c=1 | {unknown_p50/1000:.2f} vs {wrong_p50/1000:.2f} ms "
        f"(ratio {unknown_p50/max(wrong_p50, 1):.2f}) | equal within noise (dummy hash) |",
        f"| wasm, raw | {raw:,} bytes | free plan limit 3 MB |",
        f"| wasm, gzipped | {gzipped:,} bytes | ≤ 220,000: {verdict(gzipped <= 220_000)} |",
        f"| workerd peak memory (VmHWM), whole run | {peak_kib/1024:.1f} MiB | |",
        f"| the worker's wasm linear memory, start → end of run | {wasm_memory_start/2**20:.2f} → "
        f"{wasm_memory_end/2**20:.2f} MiB | |",
        f"| mixed load, c=32: requests | {mixed['checked']:,} in {mixed['seconds']:.1f} s "
        f"({mixed['requests']/mixed['seconds']:.0f}/s, p50 {mixed['p50_us']/1000:.1f} ms, p99 {mixed['p99_us']/1000:.1f} ms) "
        f"| ≥ 15,000: {verdict(mixed['checked'] >= 15_000)} |",
        f"| mixed load's ceiling: its {flows} flows ÷ the {hashing} that hash × PBKDF2 alone at c=16 "
        f"({pbkdf2_rps:.1f}/s) × {mixed['seconds']:.1f} s, every other flow free | {mixed_ceiling:,.0f} "
        f"| the target is {15_000 / mixed_ceiling:.2f} × it |",
        f"| mixed load: unexpected statuses | {mixed['unexpected'] + mixed['socket_errors']} | 0: "
        f"{verdict(mixed['unexpected'] + mixed['socket_errors'] == 0)} |",
        "",
        "workerd's resident memory is the whole local runtime, and it grows with every request",
        "whatever the worker: a one-line JavaScript worker under the same `wrangler dev` grew",
        "from 126 to 849 MiB over about 21,000 requests on this machine. The worker's own wasm",
        "memory (the row above) is what Cloudflare's 128 MB isolate limit is about.",
        "",
        "## make import",
        "",
        f"A generated dump of {IMPORT_USERS:,} users (bench/legacy_dump.py, mysqldump's style) into a fresh",
        "local D1, as the importer reports it. Its floor is one native PBKDF2-SHA256 derivation at",
        "the configured iterations (timed by the importer, the median of three) × users ÷ cores.",
        "",
        *[f"    {line}" for line in imported],
        "",
        "## Against the baselines",
        "",
        f"{ROUNDS} rounds, measured before the rows above; in each round the workers of a row ran",
        f"back to back, {SECONDS} s each, their order rotating by one from round to round. Values",
        "are medians over the rounds; a ratio is the median of the rounds' ratios. Above 1 in the",
        "req/s ratios, and below 1 in the p50 one, means this worker is faster. The project's",
        "status also checks the user (still there, not disabled, sessions not ended since; from D1,",
        "or as this isolate read it up to STATUS_USER_CACHE_SECONDS before; the session's",
        "revocation is read from KV by both, here as this isolate read it up to",
        "STATUS_REVOCATION_CACHE_SECONDS before, the bench's one token being the best case),",
        "and its login keeps the per-account and per-IP failure windows (Durable Objects, with the",
        "limits raised here as for the rows above); the JavaScript baseline does neither, but for",
        "the row \"JS with limits\": there its login keeps the same three windows with the same",
        "limits, held before the hash and ended after the answer as the project does, each a",
        "JavaScript Durable Object called by RPC as a JavaScript developer would (workers-rs",
        "offers the project only fetch to its objects; bench/js-baseline/worker.js). That row",
        "says what the limits cost on the platform in JavaScript.",
        "",
        "| endpoint | concurrency | req/s: project / JS / floor | p50 ms: project / JS / floor "
        "| project ÷ floor, req/s | project ÷ JS, req/s | project ÷ JS, p50 | non-2xx: project / JS / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *against_baselines(baseline_runs, baseline_cases),
        "",
        "## The targets beside the baselines",
        "",
        "Each speed target, this worker's measure in the rounds above, and the same measure of",
        "a baseline doing the same or less in the same rounds: the floor served behind the",
        "project's own `[assets]` section (a baseline of its own, in the `/healthz` rounds only),",
        "whose router `wrangler dev` puts before the Worker even for the paths",
        "`run_worker_first` lists; the JavaScript baseline's status against its own `/healthz`;",
        "its login with the limits against its own without them. A ratio of two rows (status ÷",
        "`/healthz`, with ÷ without the limits) pairs measures minutes apart in a round, and is",
        "noisier. The mixed load gets an estimate instead: its flows priced at requests",
        "measured alone (see its row), which leaves out what sends and refreshes cost beyond",
        "an empty request.",
        "",
        "| target | this worker | a baseline doing the same or less, same rounds |",
        "|---|---:|---|",
        *platform_bounds(baseline_runs, mixed, sends_and_refreshes_seconds),
        "",
        "## Events on",
        "",
        "The same login on two fresh workers of this build, measured after the rest, one with",
        "`EVENTS_WEBHOOK_URL` set, whose every login queues a `user.signed_in` (after the answer) for a",
        f"receiver that takes {RECEIVER_SECONDS:g} s to answer each delivery: {ROUNDS} interleaved rounds, {SECONDS} s per",
        "worker and row. Within noise of 1 is the target: events never slow a request.",
        "",
        "| endpoint | concurrency | p50 ms: events on / off | on ÷ off, p50 | on ÷ off, req/s | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
        *events_rows(*events_runs),
        "",
    ]
    table = "\n".join(lines)
    print()
    print(table)
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(table)


if __name__ == "__main__":
    main()
