#!/usr/bin/env bash
# Makes sure .dev.vars (never committed) holds each local secret, adding a random one
# for any that is missing, so an older .dev.vars gains the secrets added since.
set -euo pipefail
cd "$(dirname "$0")/.."
touch .dev.vars
for name in JWT_SECRET SMS_CODE_SECRET; do
    if ! grep -q "^$name=" .dev.vars; then
        printf '%s="%s"\n' "$name" "$(head -c 48 /dev/urandom | base64 | tr -d '\n=+/')" >> .dev.vars
        echo "Wrote a random $name to .dev.vars"
    fi
done
