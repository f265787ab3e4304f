#!/usr/bin/env bash
# Builds the pinned GitHub Actions workflow linter (actionlint) through the Go module proxy into
# .cache/bin; the ops tests lint .github/workflows with it.
set -euo pipefail
ACTIONLINT_VERSION="v1.7.12"
bin_dir="$(cd "$(dirname "$0")/../.." && pwd)/.cache/bin"
if [ -x "$bin_dir/actionlint" ] && "$bin_dir/actionlint" --version | grep -q "^${ACTIONLINT_VERSION#v}\$\|^$ACTIONLINT_VERSION\$"; then exit 0; fi
echo "[setup] building actionlint $ACTIONLINT_VERSION" >&2
mkdir -p "$bin_dir"
GOBIN="$bin_dir" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
