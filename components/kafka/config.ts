/**
 * Renders the Kafka tier's files from the model, PURE: each node's `server.properties`, the start
 * command (format storage on first start, then run the broker), the SASL credentials file, and the
 * clients' properties. The topics init script lives in `topics-script.ts`.
 */
import { KAFKA_SASL_MECHANISM, KAFKA_SASL_USER, listenerOf, type KafkaModel, type KafkaNode, type KafkaPool } from "./model.js";

export type Properties = readonly (readonly [key: string, value: string])[];

const SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required";
/** Heap of the one-shot JVM tools (storage format, topic commands): they hold almost nothing. */
export const KAFKA_TOOL_HEAP = "-Xmx128m";

/** `server-<ordinal>.properties`: the file name of a node in its pool's config directory. */
export function serverPropertiesFile(node: Pick<KafkaNode, "ordinal">): string {
  return `server-${node.ordinal}.properties`;
}

const hostPort = (address: { host: string; port: number }): string => `${address.host}:${address.port}`;

/** Every property of one node, in a stable order (the same model always renders the same text). */
export function serverProperties(model: KafkaModel, node: KafkaNode): Properties {
  const isBroker = node.roles.includes("broker");
  const listeners = node.listeners;
  const advertised = listeners.filter((l) => l.advertised !== undefined);
  const props: [string, string][] = [
    ["process.roles", node.roles.join(",")],
    ["node.id", String(node.id)],
    ["controller.quorum.voters", model.quorumVoters.join(",")],
    ["controller.listener.names", "CONTROLLER"],
    ["listeners", listeners.map((l) => `${l.name}://${hostPort(l.bind)}`).join(",")],
    ["advertised.listeners", advertised.map((l) => `${l.name}://${hostPort(l.advertised!)}`).join(",")],
    // Broker-only nodes dial the controllers, so they must know CONTROLLER's protocol too.
    ["listener.security.protocol.map", [...listeners.map((l) => `${l.name}:${l.protocol}`), ...(listeners.some((l) => l.key === "controller") ? [] : ["CONTROLLER:PLAINTEXT"])].join(",")],
  ];
  if (isBroker) props.push(["inter.broker.listener.name", listenerOf(node, "internal").name]);
  if (model.sasl) props.push(...saslProperties(model, node));
  props.push(
    ["log.dirs", model.paths.logDir(node)],
    ["num.partitions", "1"],
    // Topics are created by the init task from the channels, never by a typo in a producer.
    ["auto.create.topics.enable", "false"],
    ["unclean.leader.election.enable", "false"],
    ["default.replication.factor", String(model.replication.defaultReplicationFactor)],
    ["min.insync.replicas", String(model.replication.minInsyncReplicas)],
    ["offsets.topic.replication.factor", String(model.replication.internalTopicReplicationFactor)],
    ["transaction.state.log.replication.factor", String(model.replication.internalTopicReplicationFactor)],
    ["transaction.state.log.min.isr", String(Math.min(model.replication.minInsyncReplicas, model.replication.internalTopicReplicationFactor))],
    ["share.coordinator.state.topic.replication.factor", String(model.replication.internalTopicReplicationFactor)],
    ["share.coordinator.state.topic.min.isr", String(Math.min(model.replication.minInsyncReplicas, model.replication.internalTopicReplicationFactor))],
    ["group.initial.rebalance.delay.ms", String(model.groupInitialRebalanceDelayMs)],
  );
  if (model.offsetsTopicPartitions !== undefined) props.push(["offsets.topic.num.partitions", String(model.offsetsTopicPartitions)]);
  return props;
}

function saslProperties(model: KafkaModel, node: KafkaNode): [string, string][] {
  const saslListeners = node.listeners.filter((l) => l.protocol === "SASL_PLAINTEXT");
  if (saslListeners.length === 0) return [];
  const file = model.paths.credentialsFile;
  const mechanism = KAFKA_SASL_MECHANISM.toLowerCase();
  return [
    ["sasl.enabled.mechanisms", KAFKA_SASL_MECHANISM],
    ["sasl.mechanism.inter.broker.protocol", KAFKA_SASL_MECHANISM],
    // The broker reads its own credentials from the secret file: no password in this (ConfigMap) text.
    ["config.providers", "file"],
    ["config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"],
    ...saslListeners.map((l): [string, string] => [
      `listener.name.${l.name.toLowerCase()}.${mechanism}.sasl.jaas.config`,
      l.key === "internal" ? `${SCRAM_LOGIN} username="\${file:${file}:username}" password="\${file:${file}:password}";` : `${SCRAM_LOGIN};`,
    ]),
  ];
}

export function renderProperties(props: Properties, header: string): string {
  return `# ${header}\n${props.map(([key, value]) => `${key}=${value}`).join("\n")}\n`;
}

export function renderServerProperties(model: KafkaModel, node: KafkaNode): string {
  return renderProperties(serverProperties(model, node), `Rendered by botplatform-brokers for stack ${model.stack}: node ${node.id} (${node.roles.join("+")}) of pool ${node.pool}.`);
}

/** The pool's config directory content: one file per node, picked by ordinal at start. */
export function poolConfigFiles(model: KafkaModel, pool: KafkaPool): Record<string, string> {
  return Object.fromEntries(pool.nodes.map((node) => [serverPropertiesFile(node), renderServerProperties(model, node)]));
}

/**
 * Characters a SCRAM password may hold here: it is written into a properties file, a JAAS line and
 * `--add-scram 'SCRAM-SHA-512=[name=...,password=...]'`, where quotes, `\`, `,`, `]`, `=`, `$` or
 * whitespace would break the syntax. Generated passwords are alphanumeric.
 */
const SASL_PASSWORD = /^[A-Za-z0-9._~!@#%^*+:?/-]{8,}$/;

/** Problems with a SASL password, naming the config key; never quoting the value. */
export function saslPasswordProblems(password: string, key = "kafkaPassword"): string[] {
  return SASL_PASSWORD.test(password) ? [] : [`\`${key}\` must be at least 8 characters from A-Z a-z 0-9 . _ ~ ! @ # % ^ * + : ? / -`];
}

/** The secret credentials file: read by the broker's FileConfigProvider and the first-start format. */
export function renderCredentialsFile(password: string): string {
  const problems = saslPasswordProblems(password);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return `username=${KAFKA_SASL_USER}\npassword=${password}\n`;
}

/** Client properties for the Kafka CLI tools (`--command-config`); holds the password when SASL is on. */
export function renderClientProperties(model: Pick<KafkaModel, "sasl">, password?: string): string {
  if (!model.sasl) return "security.protocol=PLAINTEXT\n";
  if (password === undefined) throw new Error("the kafka tier has SASL on: the client properties need the password");
  renderCredentialsFile(password); // validates
  return [
    "security.protocol=SASL_PLAINTEXT",
    `sasl.mechanism=${KAFKA_SASL_MECHANISM}`,
    `sasl.jaas.config=${SCRAM_LOGIN} username="${KAFKA_SASL_USER}" password="${password}";`,
    "",
  ].join("\n");
}

/**
 * The container's start command (`sh -c <script>`): the node's ordinal comes from its host name
 * (`<pool>-<i>` pod, `bp-<stack>-<pool>-<i>` container), which picks its `server-<i>.properties`;
 * storage is formatted on first start only (with the SCRAM user, read from the secret file), then the
 * broker replaces the shell.
 */
export function renderStartScript(model: KafkaModel): string {
  const { binDir, configDir, credentialsFile } = model.paths;
  const scram = model.sasl
    ? [
        `password="$(sed -n 's/^password=//p' '${credentialsFile}')"`,
        `[ -n "$password" ] || { echo "kafka: no password in ${credentialsFile}" >&2; exit 1; }`,
      ]
    : [];
  const addScram = model.sasl ? ` --add-scram "${KAFKA_SASL_MECHANISM}=[name=${KAFKA_SASL_USER},password=$password]"` : "";
  return [
    "set -eu",
    'ordinal="${HOSTNAME##*-}"',
    'case "$ordinal" in ""|*[!0-9]*) echo "kafka: no node ordinal at the end of HOSTNAME=$HOSTNAME" >&2; exit 1;; esac',
    `config="${configDir}/server-$ordinal.properties"`,
    '[ -r "$config" ] || { echo "kafka: no $config for this node" >&2; exit 1; }',
    ...scram,
    "# --ignore-formatted: only a node's first start formats its log dir; later starts keep the data.",
    `KAFKA_HEAP_OPTS="${KAFKA_TOOL_HEAP}" '${binDir}/kafka-storage.sh' format --ignore-formatted --cluster-id '${model.clusterId}' --config "$config"${addScram}`,
    "unset password",
    `export KAFKA_HEAP_OPTS="-Xms${model.heapMb}m -Xmx${model.heapMb}m"`,
    `exec '${binDir}/kafka-server-start.sh' "$config"`,
  ].join("\n");
}

export function startCommand(model: KafkaModel): string[] {
  return ["sh", "-c", renderStartScript(model)];
}
