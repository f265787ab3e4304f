#!/usr/bin/env bash
# The one test command (README, .ci/run): on a fresh machine it installs everything the suites need
# (Node >= 22, npm packages, real broker binaries), then runs every suite against real brokers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

for installer in scripts/install/*.sh; do
  bash "$installer"
done

npx tsc --noEmit -p tsconfig.json
if [ "$#" -gt 0 ]; then
  npx vitest run "$@"
else
  npx vitest run --exclude 'test/e2e/**'
  # The Docker e2e suite alone: its ~28 containers would starve suites running beside it on two cores.
  # scripts/install/docker.sh started the engine and built its images (BP_E2E_DOCKER=skip skips both).
  if [ "${BP_E2E_DOCKER:-}" != "skip" ]; then npx vitest run test/e2e; fi
fi
