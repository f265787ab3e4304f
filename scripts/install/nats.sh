#!/usr/bin/env bash
# Builds nats-server and the nats CLI (both pinned) through the Go module proxy into .cache/bin, once.
# The NATS test harness runs nats-server from there (or from $NATS_SERVER_BIN); the integration tests
# run the channel-provisioning script with the nats CLI exactly as the init task does (or $NATS_CLI_BIN).
# Needs Go >= 1.24 on PATH; nothing else. Keep NATS_SERVER_VERSION equal to the default image version
# in components/nats/settings.ts (a unit test checks it).
set -euo pipefail
NATS_SERVER_VERSION="v2.14.10"
NATS_CLI_VERSION="v0.5.1"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$root/.cache/bin"

# go_install <binary> <module path> <version>: builds into a temp dir and moves, so an interrupted
# build never leaves a half-written binary behind; a version stamp makes a re-run a no-op.
go_install() {
  local name="$1" module="$2" version="$3"
  local bin="$bin_dir/$name" stamp="$bin_dir/$name.version"
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    echo "[setup] $name: go is not on PATH; cannot build $module@$version" >&2
    return 1
  fi
  echo "[setup] building $name $version with $(go version | cut -d' ' -f3)" >&2
  mkdir -p "$bin_dir"
  local tmp
  tmp="$(mktemp -d)"
  GOBIN="$tmp" GOFLAGS="-trimpath" CGO_ENABLED=0 go install "$module@$version" || { rm -rf "$tmp"; return 1; }
  mv "$tmp/$name" "$bin"
  rm -rf "$tmp"
  echo "$version" > "$stamp"
}

go_install nats-server github.com/nats-io/nats-server/v2 "$NATS_SERVER_VERSION"
go_install nats github.com/nats-io/natscli/nats "$NATS_CLI_VERSION"
