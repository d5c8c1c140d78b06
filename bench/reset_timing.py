#!/usr/bin/env python3
"""How long a wrong-code password reset takes for a phone with a user (a real reset code
sent to it) and for one without (the decoy a reset send leaves), interleaved, and the
medians. A stranger who could tell the two apart would learn which phones have accounts
(docs/security.md, "Finding out who has an account").

    python3 bench/reset_timing.py http://127.0.0.1:8787 [N]

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
    for number in with_user + without:
        sent, _ = post("/login/send/sms", {"phone": number, "purpose": "reset"})
        assert sent["code"] == 200, sent
    times = {"with a user": [], "without a user": []}
    for a, b in zip(with_user, without):
        for kind, number in (("with a user", a), ("without a user", b)):
            body = {"phone": number, "code": "000000", "password": "timing_2", "password_confirmation": "timing_2"}
            answer, ms = post("/login/password/reset", body)
            assert answer["code"] == 50001, answer
            times[kind].append(ms)
    for kind, measured in times.items():
        print(f"{kind:15}  median {statistics.median(measured):6.2f} ms  (n={len(measured)}, min {min(measured):.2f}, max {max(measured):.2f})")
    ratio = statistics.median(times["with a user"]) / statistics.median(times["without a user"])
    print(f"with / without: {ratio:.2f}")


main()
