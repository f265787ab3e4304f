/**
 * Two Kafka requests kafkajs has no public API for, sent through its own (internal) cluster object so
 * they share the client's brokers, SASL, timeouts and silent logger:
 *
 * - a Fetch at one offset of one partition from its leader (kafkajs's consumer always joins a group
 *   first: FindCoordinator, JoinGroup, SyncGroup and, on a fresh group, the broker's rebalance delay);
 * - a validate-only CreateTopics sent to one broker, without the metadata refresh for the (never
 *   created) topic that kafkajs's admin does afterwards; KRaft brokers forward it to the active
 *   controller, so an answer proves the controller quorum is up;
 * - an OffsetCommit as a "simple" consumer (generation -1, no member id), which Kafka accepts for a
 *   group with no members: a commit round without any join.
 *
 * kafkajs 2.2.4 is its last release, so these internals do not move; the shapes used are typed here.
 */
import type { Kafka } from "kafkajs";

interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

interface FetchResponse {
  responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: FetchedMessage[] }[] }[];
}

interface InternalBroker {
  createTopics(request: { topics: { topic: string; numPartitions: number; replicationFactor: number }[]; validateOnly: boolean; timeout: number }): Promise<unknown>;
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<FetchResponse>;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    retentionTime?: number;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>;
}

export interface WireCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(topics?: string[]): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string | number }): Promise<InternalBroker>;
  findGroupCoordinator(args: { groupId: string }): Promise<InternalBroker>;
  findControllerBroker(): Promise<InternalBroker>;
}

type ClusterFactory = (options: { allowAutoTopicCreation: boolean }) => WireCluster;

const CONSUMER_REPLICA_ID = -1;
const READ_COMMITTED = 1;
/** Enough for the probe's one small record (a whole batch is returned). */
const FETCH_MAX_BYTES = 1024 * 1024;

export class KafkaWireError extends Error {
  override readonly name = "KafkaWireError";
}

/** The cluster factory kafkajs keeps under a private symbol of its client. */
export function createWireCluster(kafka: Kafka): WireCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const factory = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof factory !== "function") throw new KafkaWireError("this kafkajs version has no private cluster factory (the probe needs kafkajs 2.x)");
  return (factory as ClusterFactory)({ allowAutoTopicCreation: false });
}

/** The record at `offset` of `topic`/`partition`, read from the partition's leader; undefined if absent. */
export async function fetchAt(cluster: WireCluster, topic: string, partition: number, offset: string): Promise<FetchedMessage | undefined> {
  await cluster.refreshMetadata([topic]);
  const leaders = cluster.findLeaderForPartitions(topic, [partition]);
  const leader = Object.keys(leaders)[0];
  if (leader === undefined) throw new KafkaWireError(`${topic}[${partition}] has no leader`);
  const broker = await cluster.findBroker({ nodeId: leader });
  const response = await broker.fetch({
    replicaId: CONSUMER_REPLICA_ID,
    isolationLevel: READ_COMMITTED,
    maxWaitTime: 0,
    minBytes: 0,
    maxBytes: FETCH_MAX_BYTES,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: FETCH_MAX_BYTES }] }],
  });
  const messages = response.responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition)?.messages ?? [];
  // A fetch returns whole batches: the batch holding `offset` may start earlier.
  return messages.find((m) => m.offset === offset);
}

/** Resolves once the active KRaft controller has validated (not created) `topic`. */
export async function validateTopicCreation(cluster: WireCluster, topic: string, timeoutMs: number): Promise<void> {
  await cluster.refreshMetadata();
  // In KRaft the metadata's "controller" is any live broker; it forwards the request to the real one.
  const broker = await cluster.findControllerBroker();
  await broker.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], validateOnly: true, timeout: timeoutMs });
}

/** Commits `offset` for a member-less group through its coordinator (generation -1: no join needed). */
export async function commitOffset(cluster: WireCluster, groupId: string, topic: string, partition: number, offset: string): Promise<void> {
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  const response = await coordinator.offsetCommit({
    groupId,
    groupGenerationId: -1,
    memberId: "",
    topics: [{ topic, partitions: [{ partition, offset }] }],
  });
  const errorCode = response.responses.find((r) => r.topic === topic)?.partitions.find((p) => p.partition === partition)?.errorCode;
  if (errorCode !== 0) throw new KafkaWireError(`OffsetCommit for group ${groupId} answered error code ${String(errorCode)}`);
}
