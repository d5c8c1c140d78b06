#!/usr/bin/env python3
"""How long the send and a wrong-code guess take for a phone with a user (a real code sent
to it) and for one without (the decoy such a send leaves), interleaved, and the medians:
for a password reset, or (PURPOSE `login`) a code sign-in without SMS_SIGNUP. A stranger
who could tell the two apart would learn which phones have accounts (docs/security.md,
"Finding out who has an account").

    python3 bench/reset_timing.py http://127.0.0.1:8787 [N] [PURPOSE]

against a worker served by `make dev` (its EXPOSE_SMS_CODE gives the registration codes;
N phones of each kind, 30 by default). Each request comes from an address of its own
(CF-Connecting-IP, which `wrangler dev` passes through), so no per-address limit is met.
Ratios and medians only: nothing is asserted."""

import json
import random
import statistics
import sys
import time
import urllib.request

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8787"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 30
PURPOSE = sys.argv[3] if len(sys.argv) > 3 else "reset"
RUN = random.randrange(10**6)
_addresses = iter(range(1, 10**6))


def post(path, body):
    n = next(_addresses)
    address = f"10.{RUN % 250}.{n // 250}.{n % 250}"
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "CF-Connecting-IP": address},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request) as answer:
            text = answer.read()
    except urllib.error.HTTPError as refused:
        text = refused.read()
    return json.loads(text), (time.perf_counter() - started) * 1000


def phone(i, kind):
    return f"13{kind}{RUN % 10000:04d}{i:04d}"


def main():
    with_user = [phone(i, 7) for i in range(N)]
    without = [phone(i, 8) for i in range(N)]
    for i, number in enumerate(with_user):
        sent, _ = post("/login/send/sms", {"phone": number})
        code = sent["data"]["code"]
        account = f"timing_{RUN}_{i}"
        done, _ = post("/login/register", {"account": account, "password": "timing_1", "password_confirmation": "timing_1", "phone": number, "code": code})
        assert done["code"] == 200, done
    kinds = ("with a user", "without a user")
    sends = {kind: [] for kind in kinds}
    guesses = {kind: [] for kind in kinds}
    for pair in zip(with_user, without):
        for kind, number in zip(kinds, pair):
            sent, ms = post("/login/send/sms", {"phone": number, "purpose": PURPOSE})
            assert sent["code"] == 200, sent
            sends[kind].append(ms)
    for pair in zip(with_user, without):
        for kind, number in zip(kinds, pair):
            if PURPOSE == "login":
                answer, ms = post("/login/jwt/sms", {"phone": number, "code": "000000"})
            else:
                body = {"phone": number, "code": "000000", "password": "timing_2", "password_confirmation": "timing_2"}
                answer, ms = post("/login/password/reset", body)
            assert answer["code"] == 50001, answer
            guesses[kind].append(ms)
    for what, times in ((f"the {PURPOSE} send", sends), ("a wrong guess", guesses)):
        for kind, measured in times.items():
            print(f"{what:18} {kind:15}  median {statistics.median(measured):6.2f} ms  (n={len(measured)}, "
                  f"min {min(measured):.2f}, max {max(measured):.2f})")
        ratio = statistics.median(times["with a user"]) / statistics.median(times["without a user"])
        print(f"{what:18} with / without: {ratio:.2f}")

main()
