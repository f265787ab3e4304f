/**
 * The Kafka probe (DESIGN.md §4), with kafkajs:
 *
 *   connect      admin connect (bootstrap + metadata); refused everywhere -> not ready (the runner retries)
 *   cluster      brokers in the metadata vs `clusterSize`: fewer -> degraded, naming the missing addresses
 *   controller   a validate-only CreateTopics: brokers forward it to the active KRaft controller, so it
 *                answers only while there is one (a leader cut off from its quorum still answers until
 *                it resigns, ~2 s; a lost quorum always shows in the acks=all write that follows)
 *   produce      acks=all (-1) to `bp.smoke` (created when missing: RF min(3, clusterSize), 10 min retention)
 *   fetch        the exact record read back at the offset the produce returned, from the partition leader
 *   group-commit an offset committed for a per-run group (no join), read back, the group deleted
 *   partitions   every channel topic and `bp.smoke` exist, have a leader for every partition and a
 *                full ISR: offline -> fail, under-replicated -> degraded, naming topic and partition
 *
 * Timeouts come from the remaining deadline; kafkajs retries are bounded and its logger silenced.
 * Probe records expire with the topic's retention; the group is deleted; nothing else is written.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type Admin, type ITopicMetadata, type Producer, type SASLOptions } from "kafkajs";
import { KAFKA_SMOKE_TOPIC } from "../components/kafka/topics.js";
import "./kafkajs-timer-fix.js";
import type { KafkaEndpoint } from "./endpoints.js";
import { commitOffset, createWireCluster, fetchAt, validateTopicCreation, type WireCluster } from "./kafka-wire.js";
import { judgeBrokers, judgePartitions, type TopicExpectation } from "./kafka-judge.js";
import { NotReadyError, type Probe, type ProbeContext } from "./probe.js";
import { StepRecorder, bestEffort, errorMessage, remainingMs, withTimeout, type StepOutcome } from "./steps.js";

/** Per-request cap: a healthy broker answers in milliseconds; acks=all waits for the ISR. */
export const KAFKA_REQUEST_TIMEOUT_MS = 5 * 1000;
export const KAFKA_CONNECT_TIMEOUT_MS = 3 * 1000;
/** The controller round gets less: a lost quorum should not eat the deadline. */
const CONTROLLER_TIMEOUT_MS = 5 * 1000;
/** The first commit on a fresh cluster creates `__consumer_offsets`: poll the coordinator this often. */
const COORDINATOR_POLL_MS = 200;
const CLEANUP_TIMEOUT_MS = 2 * 1000;
const RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 };
const PARTITION = 0;

function saslOf(endpoint: KafkaEndpoint): SASLOptions | undefined {
  const sasl = endpoint.sasl;
  if (sasl === undefined) return undefined;
  if (sasl.mechanism === "plain") return { mechanism: "plain", username: sasl.username, password: sasl.password };
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}

/** True for "nothing answers yet" (refused, unreachable, timed out connecting), through kafkajs's cause chain. */
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (e.name === "KafkaJSConnectionError" || e.name === "KafkaJSBrokerNotFound") return true;
    if (typeof code === "string" && ["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT"].includes(code)) return true;
  }
  return false;
}

const COORDINATOR_PENDING_TYPES = ["GROUP_COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR_FOR_GROUP", "GROUP_LOAD_IN_PROGRESS"];

/** True while the group coordinator is not there yet (e.g. `__consumer_offsets` still being created). */
export function isCoordinatorPending(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (e.name === "KafkaJSGroupCoordinatorNotFound") return true;
    if (typeof type === "string" && COORDINATOR_PENDING_TYPES.includes(type)) return true;
  }
  return false;
}

/** A kafkajs error's innermost message (its wrappers say only "retries exceeded"). */
function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  const outer = errorMessage(err);
  const inner = errorMessage(e);
  return inner === outer ? outer : `${outer}: ${inner}`;
}

export function newKafkaClient(endpoint: KafkaEndpoint, ctx: Pick<ProbeContext, "deadline" | "now">): Kafka {
  const remaining = Math.max(1, remainingMs(ctx));
  return new Kafka({
    clientId: "botplatform-smoke",
    brokers: endpoint.brokers,
    sasl: saslOf(endpoint),
    connectionTimeout: Math.min(KAFKA_CONNECT_TIMEOUT_MS, remaining),
    authenticationTimeout: Math.min(KAFKA_CONNECT_TIMEOUT_MS, remaining),
    requestTimeout: Math.min(KAFKA_REQUEST_TIMEOUT_MS, remaining),
    retry: RETRY,
    logLevel: logLevel.NOTHING,
  });
}

/** The one kafkajs-internal connection the controller, fetch and commit rounds share, opened on first use. */
type WireConnection = () => Promise<WireCluster>;

function wireConnection(kafka: Kafka, ctx: ProbeContext, closers: (() => Promise<void>)[]): WireConnection {
  let connected: Promise<WireCluster> | undefined;
  return () => {
    connected ??= (async () => {
      const cluster = createWireCluster(kafka);
      closers.push(() => cluster.disconnect());
      await withTimeout(ctx, "connect", cluster.connect());
      return cluster;
    })();
    // A failed connect is not cached: the next round tries again.
    connected.catch(() => (connected = undefined));
    return connected;
  };
}

async function controllerRound(wire: WireConnection, ctx: ProbeContext): Promise<StepOutcome> {
  const cluster = await wire();
  const topic = `${KAFKA_SMOKE_TOPIC.name}.${ctx.runId}`;
  await withTimeout(ctx, "validate-only CreateTopics (no active KRaft controller?)", validateTopicCreation(cluster, topic, CONTROLLER_TIMEOUT_MS), CONTROLLER_TIMEOUT_MS);
  return "the active KRaft controller validated a CreateTopics";
}

async function ensureSmokeTopic(admin: Admin, ctx: ProbeContext, clusterSize: number): Promise<string> {
  const topics = await withTimeout(ctx, "list topics", admin.listTopics());
  if (topics.includes(KAFKA_SMOKE_TOPIC.name)) return "";
  await withTimeout(
    ctx,
    `create ${KAFKA_SMOKE_TOPIC.name}`,
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: KAFKA_SMOKE_TOPIC.name,
          numPartitions: KAFKA_SMOKE_TOPIC.partitions,
          replicationFactor: Math.min(3, clusterSize),
          configEntries: [
            { name: "retention.ms", value: String(KAFKA_SMOKE_TOPIC.retentionMs) },
            // Retention deletes closed segments only: roll them as often, or probe records stay for 7 days.
            { name: "segment.ms", value: String(KAFKA_SMOKE_TOPIC.retentionMs) },
            { name: "cleanup.policy", value: "delete" },
          ],
        },
      ],
    }),
  );
  return ` (created ${KAFKA_SMOKE_TOPIC.name})`;
}

interface Produced {
  offset: string;
  key: string;
  value: string;
}

async function produceRound(producer: Producer, admin: Admin, ctx: ProbeContext, clusterSize: number): Promise<{ outcome: StepOutcome; produced?: Produced }> {
  const created = await ensureSmokeTopic(admin, ctx, clusterSize);
  await withTimeout(ctx, "producer connect", producer.connect());
  const record = { key: ctx.runId, value: `${ctx.runId}:${randomUUID()}` };
  const [meta] = await withTimeout(ctx, "produce", producer.send({ topic: KAFKA_SMOKE_TOPIC.name, acks: -1, timeout: Math.min(KAFKA_REQUEST_TIMEOUT_MS, remainingMs(ctx)), messages: [{ ...record, partition: PARTITION }] }));
  const offset = meta?.baseOffset ?? meta?.offset;
  if (meta?.errorCode !== 0 || offset === undefined) return { outcome: { verdict: "fail", detail: `produce answered error code ${String(meta?.errorCode)}` } };
  return { outcome: `acks=all to ${KAFKA_SMOKE_TOPIC.name}[${PARTITION}] at offset ${offset}${created}`, produced: { offset, ...record } };
}

async function fetchRound(wire: WireConnection, ctx: ProbeContext, produced: Produced): Promise<StepOutcome> {
  const cluster = await wire();
  const message = await withTimeout(ctx, "fetch", fetchAt(cluster, KAFKA_SMOKE_TOPIC.name, PARTITION, produced.offset));
  if (message === undefined) return { verdict: "fail", detail: `no record at ${KAFKA_SMOKE_TOPIC.name}[${PARTITION}] offset ${produced.offset}` };
  if (message.key?.toString() !== produced.key || message.value?.toString() !== produced.value) {
    return { verdict: "fail", detail: `the record at offset ${produced.offset} is not the one produced` };
  }
  return `read back offset ${produced.offset} from the partition leader`;
}

async function groupCommitRound(wire: WireConnection, admin: Admin, ctx: ProbeContext, offset: string): Promise<StepOutcome> {
  const cluster = await wire();
  const groupId = ctx.runId;
  const topic = KAFKA_SMOKE_TOPIC.name;
  try {
    // On a fresh cluster the first lookup creates `__consumer_offsets`; the coordinator comes up shortly.
    for (;;) {
      try {
        await withTimeout(ctx, "offset commit", commitOffset(cluster, groupId, topic, PARTITION, offset));
        break;
      } catch (err) {
        if (!isCoordinatorPending(err) || remainingMs(ctx) < COORDINATOR_POLL_MS * 2) throw err;
        await sleep(COORDINATOR_POLL_MS, undefined, { signal: ctx.signal });
      }
    }
    const [fetched] = await withTimeout(ctx, "offset fetch", admin.fetchOffsets({ groupId, topics: [topic] }));
    const committed = fetched?.partitions.find((p) => p.partition === PARTITION)?.offset;
    if (committed !== offset) return { verdict: "fail", detail: `group ${groupId} read back offset ${String(committed)}, committed ${offset}` };
    return `committed and read back offset ${offset} for a per-run group`;
  } finally {
    await bestEffort(admin.deleteGroups([groupId]), CLEANUP_TIMEOUT_MS);
  }
}

async function partitionsCheck(admin: Admin, ctx: ProbeContext): Promise<StepOutcome> {
  const expected: TopicExpectation[] = [
    ...(ctx.endpoints.channels ?? []).map((c) => ({ name: c.name, partitions: c.partitions ?? 1 })),
    { name: KAFKA_SMOKE_TOPIC.name, partitions: KAFKA_SMOKE_TOPIC.partitions },
  ];
  const present = new Set(await withTimeout(ctx, "list topics", admin.listTopics()));
  const existing = expected.filter((t) => present.has(t.name)).map((t) => t.name);
  const metadata: ITopicMetadata[] = existing.length === 0 ? [] : (await withTimeout(ctx, "topic metadata", admin.fetchTopicMetadata({ topics: existing }))).topics;
  return judgePartitions(expected, metadata);
}

/** A step body whose errors carry kafkajs's innermost message (its wrappers say only "retries exceeded"). */
function explained(body: () => Promise<StepOutcome>): () => Promise<StepOutcome> {
  return () =>
    body().catch((err: unknown) => {
      if (err instanceof NotReadyError) throw err;
      throw new Error(rootMessage(err), { cause: err });
    });
}

export const kafkaProbe: Probe = async (ctx) => {
  const endpoint = ctx.endpoints.kafka;
  if (endpoint === undefined) throw new Error("endpoints have no `kafka` block");
  const clusterSize = endpoint.clusterSize ?? 1;
  const steps = new StepRecorder("kafka", ctx);
  const kafka = newKafkaClient(endpoint, ctx);
  const admin = kafka.admin({ retry: RETRY });
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: RETRY, idempotent: false });
  const closers: (() => Promise<void>)[] = [() => admin.disconnect(), () => producer.disconnect()];
  const closeAll = (): Promise<void> => Promise.all(closers.map((close) => bestEffort(close(), CLEANUP_TIMEOUT_MS))).then(() => undefined);
  const onAbort = (): void => void closeAll();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const started = ctx.now();
    try {
      await withTimeout(ctx, "connect", admin.connect());
    } catch (err) {
      if (isConnectionError(err)) throw new NotReadyError(`no Kafka broker answers: ${rootMessage(err)}`, { cause: err });
      steps.add({ name: "connect", verdict: "fail", durationMs: ctx.now() - started, detail: rootMessage(err) });
      return steps.result();
    }
    steps.add({ name: "connect", verdict: "pass", durationMs: ctx.now() - started, detail: `${endpoint.brokers.length} bootstrap broker${endpoint.brokers.length === 1 ? "" : "s"}${endpoint.sasl ? `, SASL ${endpoint.sasl.mechanism}` : ""}` });

    const cluster = await steps.run("cluster", explained(async () => judgeBrokers(await withTimeout(ctx, "describe cluster", admin.describeCluster()), endpoint.brokers, clusterSize)));
    if (cluster.verdict === "fail") return steps.result();
    const wire = wireConnection(kafka, ctx, closers);
    await steps.run("controller", explained(() => controllerRound(wire, ctx)));
    let produced: Produced | undefined;
    const produce = await steps.run("produce", explained(async () => {
      const round = await produceRound(producer, admin, ctx, clusterSize);
      produced = round.produced;
      return round.outcome;
    }));
    if (produce.verdict !== "fail" && produced !== undefined) {
      const offset = produced.offset;
      const fetch = await steps.run("fetch", explained(() => fetchRound(wire, ctx, produced!)));
      if (fetch.verdict !== "fail") await steps.run("group-commit", explained(() => groupCommitRound(wire, admin, ctx, String(BigInt(offset) + 1n))));
    }
    await steps.run("partitions", explained(() => partitionsCheck(admin, ctx)));
    return steps.result();
  } catch (err) {
    if (err instanceof NotReadyError) throw err;
    steps.add({ name: "probe", verdict: "fail", durationMs: 0, detail: rootMessage(err) });
    return steps.result();
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    await closeAll();
  }
};
