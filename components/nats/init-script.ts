/**
 * The channel provisioning task as data: a POSIX sh script for the `nats` CLI (natsio/nats-box) plus
 * one JSON file per stream and consumer, the JetStream API's own config JSON. PURE. The same files run
 * in the Docker/Kubernetes init task and, in the integration tests, against the harness's cluster.
 *
 * Idempotent: an existing stream or consumer is edited to the rendered config (a no-op when equal), a
 * missing one is added. Nothing is ever deleted: a channel dropped from the stage keeps its history.
 */
import { NATS_APP_USER, type NatsModel } from "./model.js";

/** The script's file name among the task files. */
export const INIT_SCRIPT_FILE = "provision-streams.sh";
/** The `bus` password's file name among the task files (present only with auth). */
export const INIT_PASSWORD_FILE = "password";
/** Attempts per CLI call: JetStream may still be electing its meta leader when the servers turn healthy. */
const ATTEMPTS = 30;
const RETRY_DELAY_SECONDS = 2;

export interface NatsInitTask {
  /** Plain files by name (script and JSON configs); the password file is added by the caller as a secret. */
  files: Record<string, string>;
  /** argv, given the directory the files are in. */
  command(filesDir: string): string[];
  /** Whether the task needs `INIT_PASSWORD_FILE`. */
  needsPassword: boolean;
}

const streamFile = (stream: string): string => `stream-${stream}.json`;
const consumerFile = (stream: string, consumer: string): string => `consumer-${stream}-${consumer}.json`;

/** Single-quoted for sh; names here are validated (upper snake, lowercase words), but quoting costs nothing. */
const sh = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

function script(model: NatsModel): string {
  const servers = model.nodes.map((n) => `nats://${n.peerClient.host}:${n.peerClient.port}`).join(",");
  const lines = [
    "#!/bin/sh",
    `# Creates or updates the JetStream streams and consumers of cluster ${model.clusterName}. Idempotent.`,
    "# Rendered by botplatform-brokers (components/nats/init-script.ts).",
    "set -eu",
    'dir="$(cd "$(dirname "$0")" && pwd)"',
    `export NATS_URL=${sh(servers)}`,
    `if [ -f "$dir/${INIT_PASSWORD_FILE}" ]; then`,
    `  NATS_USER=${sh(model.auth?.user ?? NATS_APP_USER)}`,
    `  NATS_PASSWORD="$(cat "$dir/${INIT_PASSWORD_FILE}")"`,
    "  export NATS_USER NATS_PASSWORD",
    "fi",
    "",
    "retry() {",
    "  n=1",
    `  until "$@"; do`,
    `    if [ "$n" -ge ${ATTEMPTS} ]; then echo "giving up after $n attempts: $*" >&2; return 1; fi`,
    `    n=$((n + 1)); sleep ${RETRY_DELAY_SECONDS}`,
    "  done",
    "}",
    "apply_stream() {",
    '  if nats stream info "$1" >/dev/null 2>&1; then nats stream edit "$1" --config "$dir/$2" --force >/dev/null',
    '  else nats stream add "$1" --config "$dir/$2" >/dev/null; fi',
    '  echo "stream $1: ok"',
    "}",
    "apply_consumer() {",
    '  if nats consumer info "$1" "$2" >/dev/null 2>&1; then nats consumer edit "$1" "$2" --config "$dir/$3" --force >/dev/null',
    '  else nats consumer add "$1" "$2" --config "$dir/$3" >/dev/null; fi',
    '  echo "consumer $1/$2: ok"',
    "}",
    "",
    "# JetStream answers once its meta leader is elected.",
    "retry nats account info >/dev/null",
  ];
  for (const { stream, consumers } of model.streams) {
    lines.push(`retry apply_stream ${sh(stream.name)} ${sh(streamFile(stream.name))}`);
    for (const consumer of consumers) {
      lines.push(`retry apply_consumer ${sh(stream.name)} ${sh(consumer.durable_name)} ${sh(consumerFile(stream.name, consumer.durable_name))}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function natsInitTask(model: NatsModel): NatsInitTask {
  const files: Record<string, string> = { [INIT_SCRIPT_FILE]: script(model) };
  for (const { stream, consumers } of model.streams) {
    files[streamFile(stream.name)] = `${JSON.stringify(stream, null, 2)}\n`;
    for (const consumer of consumers) files[consumerFile(stream.name, consumer.durable_name)] = `${JSON.stringify(consumer, null, 2)}\n`;
  }
  return {
    files,
    command: (filesDir) => ["sh", `${filesDir}/${INIT_SCRIPT_FILE}`],
    needsPassword: model.auth !== undefined,
  };
}
