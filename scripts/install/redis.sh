#!/usr/bin/env bash
# Installs redis-server (Debian's package) when it is missing. The test harness runs it directly.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
echo "[setup] installing redis-server" >&2
export DEBIAN_FRONTEND=noninteractive
# The package's service is not wanted: the harness starts its own servers on ephemeral ports.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends redis-server >/dev/null
