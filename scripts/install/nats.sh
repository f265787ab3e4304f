#!/usr/bin/env bash
# Builds nats-server (pinned) through the Go module proxy into .cache/bin, once; the NATS test harness
# runs it from there (or from $NATS_SERVER_BIN). Needs Go >= 1.24 on PATH; nothing else.
set -euo pipefail
NATS_SERVER_VERSION="v2.14.10"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$root/.cache/bin"
bin="$bin_dir/nats-server"
stamp="$bin_dir/nats-server.version"

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$NATS_SERVER_VERSION" ]; then exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "[setup] nats-server: go is not on PATH; cannot build nats-server $NATS_SERVER_VERSION" >&2
  exit 1
fi
echo "[setup] building nats-server $NATS_SERVER_VERSION with $(go version | cut -d' ' -f3)" >&2
mkdir -p "$bin_dir"
# Build into a temp dir and move: an interrupted build never leaves a half-written binary behind.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" GOFLAGS="-trimpath" CGO_ENABLED=0 go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
mv "$tmp/nats-server" "$bin"
echo "$NATS_SERVER_VERSION" > "$stamp"
"$bin" --version >&2
