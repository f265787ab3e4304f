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

# Each vitest run also writes a JSON report; the last line sums them up ("N passed, N failed").
results=reports/test-results
rm -rf "$results" && mkdir -p "$results"
status=0
run_suite() {
  local name=$1
  shift
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results/$name.json" "$@" || status=1
}
if [ "$#" -gt 0 ]; then
  run_suite selected "$@"
else
  run_suite main --exclude 'test/e2e/**'
  # The Docker e2e suite alone: its ~28 containers would starve suites running beside it on two cores.
  # scripts/install/docker.sh started the engine and built its images (BP_E2E_DOCKER=skip skips both).
  if [ "${BP_E2E_DOCKER:-}" != "skip" ]; then run_suite e2e test/e2e; fi
fi
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results"
exit "$status"
