#!/usr/bin/env bash
# Installs redis-server and redis-cli (Debian 12's packages, Redis 7.0.x) when missing. The test
# harness runs redis-server directly on the configs the Redis tier renders, and runs the tier's channel
# init script with redis-cli. Debian 12 ships one Redis series, so the package name pins it; the check
# below fails loudly if a different series ever turns up.
set -euo pipefail
REDIS_SERIES="7.0"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "[setup] installing redis-server and redis-tools" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package's service is not wanted: the harness starts its own servers on ephemeral ports.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  # A fresh machine may have no package lists yet.
  apt-cache show redis-server >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
fi

version="$(redis-server --version | sed -n 's/.* v=\([0-9.]*\) .*/\1/p')"
case "$version" in
  "$REDIS_SERIES".*) ;;
  *) echo "[setup] redis-server $version found, the tests expect Redis $REDIS_SERIES.x" >&2; exit 1 ;;
esac
