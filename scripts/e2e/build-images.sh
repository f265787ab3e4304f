#!/usr/bin/env bash
# Builds the registry-free e2e test images (ops/e2e-images/build.ts): a debootstrap base from the mirror
# apt uses, then one image per broker from Debian packages plus the binaries scripts/install/nats.sh and
# scripts/install/kafka.sh leave in .cache/. Tags hash their inputs: a re-run with nothing changed only
# checks. Needs a running engine (scripts/install/docker.sh). Prints the tags as JSON.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source scripts/ensure-node.sh
# Their outputs are the images' inputs; both are no-ops once installed.
bash scripts/install/nats.sh
bash scripts/install/kafka.sh
mkdir -p .cache/e2e
# One builder at a time (the install step and a test run may both ask).
exec 9>.cache/e2e/build.lock
flock 9
node --import tsx ops/e2e-images/build.ts
