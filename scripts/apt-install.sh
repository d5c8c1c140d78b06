#!/usr/bin/env bash
# Installs Debian packages, with sudo when not root: `scripts/apt-install.sh wrk`.
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
