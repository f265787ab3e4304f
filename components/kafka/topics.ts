/**
 * The topics a stage's channels become, plus the smoke probe's topic: one PURE function, so the
 * provisioning init task, the test harness and the probe create the very same topics.
 * No Pulumi import: the healthchecks read `KAFKA_SMOKE_TOPIC` from here.
 */
import type { Channel } from "../channels.js";
import { bytesOf, secondsOf } from "../settings-common.js";

export interface KafkaTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs, e.g. `retention.ms`; applied on create and converged on every deploy. */
  configs: Record<string, string>;
}

/** The probe's topic: replicated like the channels, short retention so probe records never pile up. */
export const KAFKA_SMOKE_TOPIC = {
  name: "bp.smoke",
  partitions: 1,
  retentionMs: 10 * 60 * 1000, // 10 minutes
} as const;

const MS_PER_SECOND = 1000;
/** Kafka's default `segment.ms` (7 days). */
const KAFKA_DEFAULT_SEGMENT_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Retention deletes whole closed segments only: a quiet topic's only segment would keep its records
 * until it rolls at 7 days (or 1 GiB). A shorter retention therefore also rolls segments that often,
 * so records are gone within twice the retention.
 */
function retentionConfigs(retentionMs: number): Record<string, string> {
  return { "retention.ms": String(retentionMs), ...(retentionMs < KAFKA_DEFAULT_SEGMENT_MS && { "segment.ms": String(retentionMs) }) };
}

/** The replication a topic needs from the cluster (see `kafkaReplication`). */
export interface TopicReplication {
  defaultReplicationFactor: number;
  minInsyncReplicas: number;
}

export function channelTopic(channel: Channel, replication: TopicReplication): KafkaTopic {
  const configs: Record<string, string> = {
    "cleanup.policy": "delete",
    ...retentionConfigs(secondsOf(channel.retention.maxAge) * MS_PER_SECOND),
    "min.insync.replicas": String(replication.minInsyncReplicas),
  };
  // Kafka's retention.bytes is per partition, as the channel's maxBytes is documented.
  if (channel.retention.maxBytes !== undefined) configs["retention.bytes"] = String(bytesOf(channel.retention.maxBytes));
  return { name: channel.name, partitions: channel.partitions, replicationFactor: replication.defaultReplicationFactor, configs };
}

export function smokeTopic(replication: TopicReplication): KafkaTopic {
  return {
    name: KAFKA_SMOKE_TOPIC.name,
    partitions: KAFKA_SMOKE_TOPIC.partitions,
    replicationFactor: replication.defaultReplicationFactor,
    configs: {
      "cleanup.policy": "delete",
      ...retentionConfigs(KAFKA_SMOKE_TOPIC.retentionMs),
      "min.insync.replicas": String(replication.minInsyncReplicas),
    },
  };
}

/** Every channel as a topic (in declaration order), then the smoke topic. */
export function kafkaTopics(channels: readonly Channel[], replication: TopicReplication): KafkaTopic[] {
  const clash = channels.findIndex((channel) => channel.name === KAFKA_SMOKE_TOPIC.name);
  if (clash >= 0) throw new Error(`channels[${clash}].name: \`${KAFKA_SMOKE_TOPIC.name}\` is reserved for the Kafka smoke probe's topic`);
  return [...channels.map((channel) => channelTopic(channel, replication)), smokeTopic(replication)];
}
