#!/usr/bin/env bash
# The main job (README): deploy a stage with its smoke checks, on the embedded default (local file
# state backend, local Docker). Sets up Node >= 22 and the npm packages first on a fresh machine.
# Usage: scripts/deploy.sh --stage <name> [npm run up options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "deploy: set PULUMI_CONFIG_PASSPHRASE (it encrypts the stack's generated passwords in the local state)" >&2
  exit 2
fi
exec npm run --silent up -- "$@"
