/**
 * The topics init script (POSIX sh over Kafka's CLI tools), rendered PURELY from the topic specs.
 * Idempotent and never destructive: one `--describe` of all topics, then per topic: create it when
 * missing, grow its partitions when the spec has more, converge its configs when they differ. A
 * re-run on an unchanged cluster launches one JVM (the describe) and changes nothing.
 */
import type { HostPort } from "../targets/addressing.js";
import { KAFKA_TOOL_HEAP } from "./config.js";
import type { KafkaTopic } from "./topics.js";

export interface TopicsScriptArgs {
  topics: readonly KafkaTopic[];
  /** Brokers the tools dial: CLIENT listeners inside the target, local ports in the harness. */
  bootstrap: readonly HostPort[];
  /** `kafka-topics.sh` and `kafka-configs.sh` live here. */
  binDir: string;
  /** A client properties file (`--command-config`), e.g. with the SASL credentials. */
  commandConfig?: string;
}

/** Single-quoted for sh: topic names and config values are validated words, but quote anyway. */
const q = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

const configList = (topic: KafkaTopic): string =>
  Object.keys(topic.configs)
    .sort()
    .map((key) => `${key}=${topic.configs[key]}`)
    .join(",");

function topicLine(topic: KafkaTopic): string {
  const createConfigs = Object.keys(topic.configs)
    .sort()
    .map((key) => ` --config ${q(`${key}=${topic.configs[key]}`)}`)
    .join("");
  return `ensure_topic ${q(topic.name)} ${topic.partitions} ${topic.replicationFactor} ${q(configList(topic))}${createConfigs}`;
}

export function renderTopicsScript(args: TopicsScriptArgs): string {
  const auth = args.commandConfig === undefined ? "" : ` --command-config ${q(args.commandConfig)}`;
  const bootstrap = args.bootstrap.map((b) => `${b.host}:${b.port}`).join(",");
  return [
    "#!/bin/sh",
    "# Rendered by botplatform-brokers: creates the stage's Kafka topics; safe to run any number of times.",
    "set -eu",
    `export KAFKA_HEAP_OPTS="${KAFKA_TOOL_HEAP}"`,
    // A one-shot tool: the C1 compiler starts it faster than the full tiered JIT.
    'export KAFKA_JVM_PERFORMANCE_OPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto"',
    `bin=${q(args.binDir)}`,
    `bootstrap=${q(bootstrap)}`,
    `topics() { "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap"${auth} "$@"; }`,
    `configs() { "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap"${auth} "$@"; }`,
    "",
    "# One describe for all topics; each summary line is `Topic: <name> TopicId: .. PartitionCount: <n> .. Configs: <k=v,...>`.",
    'described="$(topics --describe --exclude-internal)"',
    'field() { printf "%s\\n" "$described" | awk -v t="$1" -v f="$2" \'$1 == "Topic:" && $2 == t { for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }\'; }',
    "",
    "# ensure_topic NAME PARTITIONS REPLICATION_FACTOR 'k=v,k=v' [--config k=v ...]",
    "ensure_topic() {",
    '  name="$1"; partitions="$2"; replication="$3"; wanted="$4"; shift 4',
    '  current="$(field "$name" PartitionCount:)"',
    '  if [ -z "$current" ]; then',
    '    topics --create --if-not-exists --topic "$name" --partitions "$partitions" --replication-factor "$replication" "$@"',
    '    echo "topic $name: created ($partitions partitions, replication factor $replication)"',
    "    return",
    "  fi",
    '  if [ "$current" -lt "$partitions" ]; then',
    '    topics --alter --topic "$name" --partitions "$partitions"',
    '    echo "topic $name: partitions $current -> $partitions"',
    '  elif [ "$current" -gt "$partitions" ]; then',
    '    echo "topic $name: has $current partitions, more than the $partitions configured (Kafka cannot shrink a topic; left as is)" >&2',
    "  fi",
    '  have=",$(field "$name" Configs:),"',
    "  missing=''",
    '  for kv in $(printf "%s" "$wanted" | tr "," " "); do',
    '    case "$have" in *",$kv,"*) ;; *) missing="$missing,$kv" ;; esac',
    "  done",
    '  if [ -n "$missing" ]; then',
    '    configs --alter --entity-type topics --entity-name "$name" --add-config "$wanted"',
    '    echo "topic $name: configs set to $wanted"',
    "  fi",
    "}",
    "",
    ...args.topics.map(topicLine),
    'echo "topics ok"',
    "",
  ].join("\n");
}
