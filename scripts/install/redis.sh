#!/usr/bin/env bash
# Installs redis-server (Debian's package) when it is missing. The test harness runs it directly.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
echo "[setup] installing redis-server" >&2
source "$(dirname "$0")/../lib/apt.sh"
bp_apt_install redis-server redis-tools
