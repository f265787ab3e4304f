/**
 * Renders RabbitMQ's own files from the model (PURE): `rabbitmq.conf` (sysctl format, valid for 3.10
 * and 4.x alike), `enabled_plugins` (an Erlang term) and `definitions.json` (vhost, user with a salted
 * SHA-256 password hash, permissions, topology), imported by every node at boot.
 *
 * The password hash is what `rabbit_password_hashing_sha256` computes: base64(salt ++ sha256(salt ++
 * password)) with a 4-byte salt. The salt derives from stack and user, so the same password always
 * yields the same file (no drift between deploys); the file still holds a hash of a secret and is
 * handled as a secret.
 */
import { createHash } from "node:crypto";
import type { RabbitmqModel } from "./model.js";
import type { Topology } from "./topology.js";

export const PASSWORD_HASHING_ALGORITHM = "rabbit_password_hashing_sha256";
const SALT_BYTES = 4;

/** A 4-byte salt stable per stack and user. */
export function passwordSalt(stack: string, user: string): Buffer {
  return createHash("sha256").update(`botplatform-brokers\0${stack}\0${user}`).digest().subarray(0, SALT_BYTES);
}

export function passwordHash(password: string, salt: Buffer): string {
  if (salt.length !== SALT_BYTES) throw new Error(`a RabbitMQ password salt has ${SALT_BYTES} bytes, got ${salt.length}`);
  const digest = createHash("sha256").update(salt).update(password, "utf8").digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

/** `rabbitmq.conf` of node `index` (on Kubernetes every node renders the same text). */
export function renderRabbitmqConf(model: RabbitmqModel, index: number): string {
  const node = model.nodes[index];
  if (node === undefined) throw new Error(`no RabbitMQ node ${index} (the cluster has ${model.nodes.length})`);
  const lines = [
    `## RabbitMQ node ${index} of stage ${model.stack}, rendered by botplatform-brokers: edit the stage, not this file.`,
    `listeners.tcp.1 = ${node.bindHost}:${node.ports.amqp}`,
    `management.tcp.ip = ${node.bindHost}`,
    `management.tcp.port = ${node.ports.management}`,
    "",
    `vm_memory_high_watermark.relative = ${model.limits.memoryHighWatermark}`,
    `total_memory_available_override_value = ${model.limits.totalMemoryBytes}`,
    `disk_free_limit.absolute = ${model.limits.diskFreeLimitBytes}`,
    "",
    // A minority side stops serving instead of diverging: quorum queues stay consistent.
    "cluster_partition_handling = pause_minority",
    // Queues and bindings are imported by the node that completes the cluster, so every quorum queue
    // gets a member on every node (imported by the first node alone, they would live on it only).
    `cluster_formation.target_cluster_size_hint = ${model.clusterSize}`,
    ...formationLines(model),
    "",
    `load_definitions = ${model.definitionsPath}`,
    "",
    "log.console = true",
    "log.console.level = info",
    "log.file = false",
  ];
  return `${lines.join("\n")}\n`;
}

function formationLines(model: RabbitmqModel): string[] {
  const f = model.formation;
  if (f.kind === "classic") {
    return ["cluster_formation.peer_discovery_backend = rabbit_peer_discovery_classic_config", ...f.nodes.map((name, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${name}`)];
  }
  // RabbitMQ 4.1's k8s plugin derives the seed (pod -0) from the node name and ignores these keys;
  // 3.x lists the headless Service's endpoints through the API with them.
  return [
    "cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s",
    "cluster_formation.k8s.host = kubernetes.default.svc.cluster.local",
    "cluster_formation.k8s.address_type = hostname",
    `cluster_formation.k8s.service_name = ${f.headlessService}`,
    `cluster_formation.k8s.hostname_suffix = ${f.hostnameSuffix}`,
    // No `node_cleanup` keys: 3.x only logs absent nodes by default, and 4.1's plugin has no cleanup.
  ];
}

export function renderEnabledPlugins(model: RabbitmqModel): string {
  return `[${model.plugins.join(",")}].\n`;
}

/** The non-secret part of the definitions: vhost and channel topology. */
export function topologyDefinitions(model: RabbitmqModel): { vhosts: { name: string }[] } & Topology {
  return { vhosts: [{ name: model.vhost }], ...model.topology };
}

/** `definitions.json` with the client user's password hash (see `passwordHash`). */
export function renderDefinitions(model: RabbitmqModel, hash: string): string {
  const topology = topologyDefinitions(model);
  const definitions = {
    users: [{ name: model.user.name, password_hash: hash, hashing_algorithm: PASSWORD_HASHING_ALGORITHM, tags: [...model.user.tags], limits: {} }],
    vhosts: topology.vhosts,
    permissions: [{ user: model.user.name, vhost: model.vhost, configure: ".*", write: ".*", read: ".*" }],
    exchanges: topology.exchanges,
    queues: topology.queues,
    bindings: topology.bindings,
    policies: topology.policies,
  };
  return `${JSON.stringify(definitions, null, 2)}\n`;
}

/** Definitions for `password`, salted per stack and user. */
export function renderDefinitionsFor(model: RabbitmqModel, password: string): string {
  return renderDefinitions(model, passwordHash(password, passwordSalt(model.stack, model.user.name)));
}
