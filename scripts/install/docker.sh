#!/usr/bin/env bash
# The Docker e2e suite's engine and images: installs Debian's docker.io and debootstrap when missing,
# starts dockerd in the background when no engine answers (there is no systemd here; its log goes to
# .cache/docker/dockerd.log), then builds the registry-free test images (scripts/e2e/build-images.sh,
# a no-op when they are current). Fast when all is in place. BP_E2E_DOCKER=skip skips all of it (the
# e2e suite then skips itself, saying why).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ "${BP_E2E_DOCKER:-}" = "skip" ]; then
  echo "[setup] docker: skipped (BP_E2E_DOCKER=skip)" >&2
  exit 0
fi
# How long dockerd may take to answer after it starts.
START_TIMEOUT_S=30

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "[setup] installing docker.io and debootstrap" >&2
  source "$root/scripts/lib/apt.sh"
  bp_apt_install docker.io debootstrap
fi

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# start_dockerd <extra flags...>: starts the daemon detached from this script, waits until it answers.
start_dockerd() {
  local log="$root/.cache/docker/dockerd.log"
  mkdir -p "$root/.cache/docker"
  echo "[setup] starting dockerd $* (log: $log)" >&2
  setsid nohup dockerd --pidfile /var/run/docker.pid "$@" >>"$log" 2>&1 </dev/null &
  local pid=$! waited=0
  until engine_up; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge "$START_TIMEOUT_S" ]; then
      kill "$pid" 2>/dev/null || true
      echo "[setup] dockerd $* did not come up; its log ends with:" >&2
      tail -n 5 "$log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

if ! engine_up; then
  # Defaults first (bridge + iptables NAT). A sandbox without iptables can still run the suite: the
  # containers share a user-defined bridge, published ports go through docker-proxy on 127.0.0.1, and
  # image builds use the host's network.
  start_dockerd || start_dockerd --iptables=false --ip-masq=false || {
    echo "[setup] docker: no engine could be started; set BP_E2E_DOCKER=skip to run without the e2e suite" >&2
    exit 1
  }
fi

bash "$root/scripts/e2e/build-images.sh" >/dev/null
