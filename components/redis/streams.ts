/**
 * PURE: the channel provisioning of the Redis tier as data (a list of Redis commands) and as the POSIX
 * shell script the one-shot init task runs with `redis-cli`. The test harness runs the very same
 * script against real redis-server processes.
 *
 * Each durable channel is a stream whose consumer groups start at `$` (new entries). Every command is
 * idempotent: `XGROUP CREATE ... MKSTREAM` tolerates `BUSYGROUP`, `HSET` writes the same values, and
 * `XTRIM MAXLEN ~` only removes entries beyond the declared cap. Groups removed from the stage are left
 * alone (destroying one would lose its consumers' positions).
 *
 * Retention: Redis has no per-stream MAXLEN setting, so producers must trim on write with
 * `XADD <stream> MAXLEN ~ <maxlen> * ...`. The init task records each stream's retention in the hash
 * `bp:retention:<stream>` (`maxlen`, `maxage-s`) for producers to read, and trims once to `maxlen`.
 */
import type { HostPort } from "../targets/addressing.js";
import type { RedisStream } from "./model.js";

export const RETENTION_KEY_PREFIX = "bp:retention:";
/**
 * Creates (and then drops) a group on a stream that declares none: `XGROUP CREATE ... MKSTREAM` is the
 * only command that makes an empty stream. The `:` keeps it apart from any valid consumer group name.
 */
export const PLACEHOLDER_GROUP = "bp:init";
export interface InitStep {
  command: string[];
  /** An error reply prefix that means "already done" (e.g. `BUSYGROUP`). */
  tolerate?: string;
}

export function retentionKey(stream: string): string {
  return `${RETENTION_KEY_PREFIX}${stream}`;
}

export function streamInitSteps(streams: readonly RedisStream[]): InitStep[] {
  return streams.flatMap((stream): InitStep[] => {
    const create = (group: string): InitStep => ({ command: ["XGROUP", "CREATE", stream.key, group, "$", "MKSTREAM"], tolerate: "BUSYGROUP" });
    const groups =
      stream.groups.length > 0
        ? stream.groups.map(create)
        : [create(PLACEHOLDER_GROUP), { command: ["XGROUP", "DESTROY", stream.key, PLACEHOLDER_GROUP] }];
    return [
      ...groups,
      { command: ["XTRIM", stream.key, "MAXLEN", "~", String(stream.maxLength)] },
      { command: ["HSET", retentionKey(stream.key), "maxlen", String(stream.maxLength), "maxage-s", String(stream.maxAgeSeconds)] },
    ];
  });
}

/** Single-quoted for sh: nothing inside is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface InitScriptArgs {
  /** The primary as the task reaches it (container name on Docker, pod DNS name on Kubernetes). */
  primary: HostPort;
  /** A file holding the password; absent when the stage runs without auth. */
  passwordFile?: string;
  steps: readonly InitStep[];
}

/**
 * The init task's script: check the primary answers, run every step, fail loudly on any other error.
 * It runs once the nodes are healthy (Docker waits for their health checks, Kubernetes for the
 * StatefulSet's readiness, and retries a failed Job), so it does not wait itself. It needs only sh and
 * redis-cli of the image (`read` is a builtin).
 */
export function renderInitScript(args: InitScriptArgs): string {
  const lines = [
    "#!/bin/sh",
    "# Provisions the Redis tier's durable channels (streams, consumer groups, retention). Idempotent.",
    "set -eu",
    `host=${shellQuote(args.primary.host)}`,
    `port=${args.primary.port}`,
    ...(args.passwordFile === undefined ? [] : [`IFS= read -r REDISCLI_AUTH < ${shellQuote(args.passwordFile)} || [ -n "\${REDISCLI_AUTH:-}" ]`, "export REDISCLI_AUTH"]),
    'reply="$(redis-cli -h "$host" -p "$port" ping 2>&1)" || true',
    'if [ "$reply" != PONG ]; then echo "redis-init: $host:$port is not ready: $reply" >&2; exit 1; fi',
    "# run <tolerated error prefix or ''> <command...>",
    "run() {",
    '  tolerate="$1"; shift',
    '  if reply="$(redis-cli -e -h "$host" -p "$port" "$@" 2>&1)"; then return 0; fi',
    '  if [ -n "$tolerate" ]; then case "$reply" in "$tolerate"*) return 0;; esac; fi',
    '  echo "redis-init: $* failed: $reply" >&2',
    "  exit 1",
    "}",
    ...args.steps.map((step) => `run ${shellQuote(step.tolerate ?? "")} ${step.command.map(shellQuote).join(" ")}`),
    `echo "redis-init: ${args.steps.length} commands applied on $host:$port"`,
  ];
  return `${lines.join("\n")}\n`;
}
