/**
 * The Kafka (KRaft) cluster model, computed as plain data from the stage and an addressing strategy
 * per node pool: node ids and roles, the controller quorum, every listener with its bind and advertised
 * address, replication defaults, the stable cluster id and the topics the channels become. PURE: no
 * Pulumi resources, no I/O. Docker, Kubernetes and the test harness all render this same model.
 */
import { createHash } from "node:crypto";
import { bytesOf } from "../settings-common.js";
import { PROJECT, type Stage } from "../stage.js";
import type { Addressing, HostPort } from "../targets/addressing.js";
import { IMAGE_CONTRACTS } from "../targets/image-contract.js";
import type { KafkaSettings } from "./settings.js";
import { kafkaTopics, type KafkaTopic } from "./topics.js";

/**
 * Container ports per listener. INTERNAL carries replication between brokers, CLIENT serves clients
 * inside the target (pod / container DNS names), EXTERNAL serves clients outside it (the host on
 * Docker), CONTROLLER the KRaft quorum.
 */
export const KAFKA_PORTS = { internal: 9091, client: 9092, controller: 9093, external: 9094 } as const;
export type KafkaListenerKey = keyof typeof KAFKA_PORTS;

/** The SCRAM user clients and the inter-broker listener authenticate as. */
export const KAFKA_SASL_USER = "bus";
export const KAFKA_SASL_MECHANISM = "SCRAM-SHA-512";

/** The official image's non-root user (`appuser`). */
export const KAFKA_IMAGE_UID = IMAGE_CONTRACTS.kafka.user.uid;

/** Where the rendered files live in a container; the harness passes its own temp-dir paths. */
export interface KafkaPaths {
  /** Holds `server-<ordinal>.properties` of a pool's nodes (ConfigMap mount / Docker uploads). */
  configDir: string;
  /** `username=...` / `password=...`, read by the broker's FileConfigProvider and the format step. */
  credentialsFile: string;
  /** The broker's `log.dirs` for one node. */
  logDir: (node: KafkaNode) => string;
  /** `kafka-storage.sh`, `kafka-server-start.sh`, `kafka-topics.sh`, ... */
  binDir: string;
}

export const KAFKA_DATA_MOUNT = IMAGE_CONTRACTS.kafka.dataDir;

export const CONTAINER_PATHS: KafkaPaths = {
  configDir: "/etc/kafka/botplatform",
  credentialsFile: "/etc/kafka/botplatform-secrets/credentials.properties",
  // A subdirectory: a fresh volume's root may hold `lost+found`, which Kafka takes for a bad partition.
  logDir: () => `${KAFKA_DATA_MOUNT}/kafka-log`,
  binDir: "/opt/kafka/bin",
};

export type KafkaRole = "broker" | "controller";

/** How the cluster's nodes are grouped: one StatefulSet / container set per pool. */
export interface KafkaPoolLayout {
  /** `kafka` (combined broker+controller), `kafka-controller` or `kafka-broker`. */
  name: string;
  roles: readonly KafkaRole[];
  size: number;
  /** node.id of the pool's ordinal 0; ids are unique across pools. */
  firstNodeId: number;
}

export interface KafkaListener {
  /** Kafka's listener name, e.g. `INTERNAL`. */
  name: string;
  key: KafkaListenerKey;
  bind: HostPort;
  /** Absent for CONTROLLER on combined nodes (a broker does not advertise its controller listener). */
  advertised?: HostPort;
  protocol: "PLAINTEXT" | "SASL_PLAINTEXT";
}

export interface KafkaNode {
  id: number;
  ordinal: number;
  pool: string;
  roles: readonly KafkaRole[];
  /** Container name / pod name / `kafka-<i>` locally. */
  name: string;
  /** The name peers dial (container name, pod DNS name, 127.0.0.1). */
  host: string;
  listeners: KafkaListener[];
}

export interface KafkaPool extends KafkaPoolLayout {
  nodes: KafkaNode[];
  /** Listener keys this pool's nodes open (container ports to expose). */
  listenerKeys: KafkaListenerKey[];
  /** The listener whose accept means the node has started and caught up with the metadata log. */
  healthListener: KafkaListenerKey;
}

export interface KafkaReplication {
  defaultReplicationFactor: number;
  minInsyncReplicas: number;
  /** `__consumer_offsets`, `__transaction_state` and the share-group state topic. */
  internalTopicReplicationFactor: number;
}

export interface KafkaModel {
  stack: string;
  version: string;
  image: string;
  /** 16 bytes, base64url: derived from project + stack, so it never drifts between deploys. */
  clusterId: string;
  pools: KafkaPool[];
  nodes: KafkaNode[];
  /** `id@host:port` of every controller, in id order: `controller.quorum.voters`. */
  quorumVoters: string[];
  replication: KafkaReplication;
  /** Throw-away stages skip the first consumer group's rebalance delay. */
  groupInitialRebalanceDelayMs: number;
  /** `offsets.topic.num.partitions` when not Kafka's default (50); fixed once the topic exists. */
  offsetsTopicPartitions?: number;
  sasl: boolean;
  /** EXTERNAL address of every broker: the bootstrap list of the endpoints contract. */
  bootstrap: HostPort[];
  /** CLIENT address of every broker: what an in-target task (topic creation) dials. */
  inTargetBootstrap: HostPort[];
  brokerCount: number;
  topics: KafkaTopic[];
  /** JVM heap per node, from the memory setting (the rest is page cache Kafka lives on). */
  heapMb: number;
  paths: KafkaPaths;
}

/** Kafka's default first-rebalance delay (3 s), kept on stages whose consumers matter. */
export const DEFAULT_GROUP_INITIAL_REBALANCE_DELAY_MS = 3000;
/**
 * `__consumer_offsets` partitions on throw-away stages. A fresh cluster creates the topic on the first
 * group lookup: with Kafka's 50 partitions that took 3-5 s on the 2-core CI box, with 6 about 1 s (see
 * bench/kafka-probe.ts). Such clusters hold a handful of groups and live for a pipeline run.
 */
export const THROWAWAY_OFFSETS_TOPIC_PARTITIONS = 6;
/** Share of the container memory given to the JVM heap; Kafka serves reads from the page cache. */
const HEAP_SHARE = 0.5;
const MIN_HEAP_MB = 256;

export const DEFAULT_KAFKA_IMAGE = (version: string): string => `apache/kafka:${version}`;

/** Pools of a cluster: combined nodes when `controllers` is 0, else 3 controllers then the brokers. */
export function kafkaPools(settings: Pick<KafkaSettings, "brokers" | "controllers">): KafkaPoolLayout[] {
  if (settings.controllers === 0) return [{ name: "kafka", roles: ["broker", "controller"], size: settings.brokers, firstNodeId: 0 }];
  return [
    { name: "kafka-controller", roles: ["controller"], size: settings.controllers, firstNodeId: 0 },
    { name: "kafka-broker", roles: ["broker"], size: settings.brokers, firstNodeId: settings.controllers },
  ];
}

/** Replication defaults from the broker count, unless the stage sets them (stage.ts validates them). */
export function kafkaReplication(settings: Pick<KafkaSettings, "brokers" | "replicationFactor" | "minInsyncReplicas">): KafkaReplication {
  const defaultReplicationFactor = settings.replicationFactor ?? Math.min(3, settings.brokers);
  const minInsyncReplicas = settings.minInsyncReplicas ?? (defaultReplicationFactor >= 3 ? 2 : 1);
  return { defaultReplicationFactor, minInsyncReplicas, internalTopicReplicationFactor: Math.min(3, settings.brokers) };
}

/** A stable KRaft cluster id: the first 16 bytes of sha256(project/stack), base64url without padding. */
export function kafkaClusterId(stack: string, project = PROJECT): string {
  return createHash("sha256").update(`${project}/${stack}`).digest().subarray(0, 16).toString("base64url");
}

export function kafkaHeapMb(memory: string): number {
  return Math.max(MIN_HEAP_MB, Math.floor((bytesOf(memory) / (1024 * 1024)) * HEAP_SHARE));
}

export interface KafkaModelArgs {
  stage: Stage;
  /** Addressing of each pool, by pool name (see `kafkaPools`); nodes are addressed by their ordinal. */
  addressing: (pool: KafkaPoolLayout) => Addressing;
  /** @default CONTAINER_PATHS */
  paths?: KafkaPaths;
}

export function kafkaModel(args: KafkaModelArgs): KafkaModel {
  const { stage } = args;
  const settings = stage.kafka;
  if (settings === undefined) throw new Error("the stage does not enable the `kafka` tier");
  const sasl = settings.auth.enabled;
  const pools = kafkaPools(settings).map((layout) => buildPool(layout, args.addressing(layout), sasl));
  const nodes = pools.flatMap((pool) => pool.nodes);
  const brokers = nodes.filter((node) => node.roles.includes("broker"));
  const advertisedOf = (node: KafkaNode, key: KafkaListenerKey): HostPort => {
    const { advertised } = listenerOf(node, key);
    if (advertised === undefined) throw new Error(`kafka node ${node.id} advertises no ${key} listener`);
    return advertised;
  };
  const replication = kafkaReplication(settings);
  return {
    stack: stage.name,
    version: settings.version,
    image: settings.image ?? DEFAULT_KAFKA_IMAGE(settings.version),
    clusterId: kafkaClusterId(stage.name),
    pools,
    nodes,
    quorumVoters: nodes
      .filter((node) => node.roles.includes("controller"))
      .map((node) => `${node.id}@${node.host}:${listenerOf(node, "controller").bind.port}`),
    replication,
    groupInitialRebalanceDelayMs: stage.throwaway ? 0 : DEFAULT_GROUP_INITIAL_REBALANCE_DELAY_MS,
    ...(stage.throwaway && { offsetsTopicPartitions: THROWAWAY_OFFSETS_TOPIC_PARTITIONS }),
    sasl,
    bootstrap: brokers.map((node) => advertisedOf(node, "external")),
    inTargetBootstrap: brokers.map((node) => advertisedOf(node, "client")),
    brokerCount: brokers.length,
    topics: kafkaTopics(stage.channels, replication),
    heapMb: kafkaHeapMb(settings.resources.memory),
    paths: args.paths ?? CONTAINER_PATHS,
  };
}

const LISTENER_NAMES: Record<KafkaListenerKey, string> = { internal: "INTERNAL", client: "CLIENT", controller: "CONTROLLER", external: "EXTERNAL" };

function buildPool(layout: KafkaPoolLayout, addressing: Addressing, sasl: boolean): KafkaPool {
  const isBroker = layout.roles.includes("broker");
  const isController = layout.roles.includes("controller");
  const listenerKeys: KafkaListenerKey[] = [...(isBroker ? (["internal", "client", "external"] as const) : []), ...(isController ? (["controller"] as const) : [])];
  const nodes = Array.from({ length: layout.size }, (_, ordinal): KafkaNode => {
    const listener = (key: KafkaListenerKey): KafkaListener => {
      const port = addressing.port(ordinal, key);
      const advertised =
        key === "external" ? addressing.client(ordinal, key)
        : key === "controller" ? (isBroker ? undefined : { host: addressing.peerHost(ordinal), port })
        : { host: addressing.peerHost(ordinal), port };
      // The quorum stays PLAINTEXT: only brokers and controllers of this cluster dial it.
      const protocol = sasl && key !== "controller" ? "SASL_PLAINTEXT" : "PLAINTEXT";
      return { name: LISTENER_NAMES[key], key, bind: { host: addressing.bindHost, port }, ...(advertised && { advertised }), protocol };
    };
    return {
      id: layout.firstNodeId + ordinal,
      ordinal,
      pool: layout.name,
      roles: layout.roles,
      name: addressing.nodeName(ordinal),
      host: addressing.peerHost(ordinal),
      listeners: listenerKeys.map(listener),
    };
  });
  return { ...layout, nodes, listenerKeys, healthListener: isBroker ? "client" : "controller" };
}

export function listenerOf(node: KafkaNode, key: KafkaListenerKey): KafkaListener {
  const listener = node.listeners.find((l) => l.key === key);
  if (listener === undefined) throw new Error(`kafka node ${node.id} has no ${key} listener`);
  return listener;
}
