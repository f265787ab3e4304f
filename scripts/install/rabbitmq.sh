#!/usr/bin/env bash
# Installs RabbitMQ (Debian 12's rabbitmq-server 3.10.8, with Erlang/OTP 25 and epmd) when missing. The
# test harness runs /usr/lib/rabbitmq/bin/rabbitmq-server directly on 127.0.0.1; the package's own
# service is never started. Downloaded .debs are kept in .cache/rabbitmq-debs for a faster re-install.
set -euo pipefail
RABBITMQ_VERSION="3.10.8"
SERVER_BIN=/usr/lib/rabbitmq/bin/rabbitmq-server

installed_version() { dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || true; }

if [ -x "$SERVER_BIN" ] && command -v epmd >/dev/null 2>&1 && [[ "$(installed_version)" == "$RABBITMQ_VERSION"-* ]]; then
  exit 0
fi
echo "[setup] installing rabbitmq-server $RABBITMQ_VERSION" >&2
cache="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cache/rabbitmq-debs"
mkdir -p "$cache/partial"
export DEBIAN_FRONTEND=noninteractive
# The package's service is not wanted: the harness starts its own nodes on ephemeral ports.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
install_pinned() {
  apt-get install -y -qq --no-install-recommends -o Dir::Cache::archives="$cache" "rabbitmq-server=$RABBITMQ_VERSION-*" >/dev/null
}
# A fresh machine may have no package lists yet.
install_pinned || { apt-get update -qq && install_pinned; }
[ -x "$SERVER_BIN" ] || { echo "[setup] rabbitmq-server installed but $SERVER_BIN is missing" >&2; exit 1; }
