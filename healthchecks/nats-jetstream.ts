/**
 * The NATS probe's JetStream parts: the durable round on the probe stream `BP_SMOKE` and the check that
 * every durable channel's stream and consumer groups exist with the expected replicas.
 *
 * Nothing piles up: each run publishes one message to its own subject, reads it through its own durable
 * pull consumer, then deletes the message and the consumer. If a run dies midway, the consumer's
 * `inactive_threshold` and the stream's `max_age` remove what it left.
 */
import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig, type StreamInfo } from "nats";
import type { Channel } from "./endpoints.js";
import { NotReadyError, type ProbeContext } from "./probe.js";
import { bestEffort, errorMessage, withTimeout, type StepOutcome } from "./steps.js";

export const SMOKE_STREAM = "BP_SMOKE";
/** The stream's subjects; a run uses `bp.smoke.<runId>`. */
export const SMOKE_SUBJECT_PREFIX = "bp.smoke";
const NS_PER_MS = 1_000_000;
/** Probe messages expire after this even when a run could not delete its own. */
export const SMOKE_MAX_AGE_MS = 10 * 60 * 1000; // 10 min
/** Hard caps on the probe stream, whatever happens: old messages are discarded first. */
const SMOKE_MAX_MSGS = 10_000;
const SMOKE_MAX_BYTES = 16 * 1024 * 1024; // 16 MiB
const SMOKE_DUPLICATE_WINDOW_MS = 60 * 1000; // 1 min
/** A crashed run's consumer is removed by the server after this long without activity. */
export const SMOKE_CONSUMER_INACTIVE_MS = 60 * 1000; // 1 min
/** One JetStream API call or fetch; the run's deadline caps it further. */
export const JS_OP_TIMEOUT_MS = 5 * 1000; // 5 s
/** Streams never hold more than 3 replicas (the provisioning rule, part of the endpoints contract). */
const MAX_REPLICAS = 3;
const CLEANUP_TIMEOUT_MS = 2 * 1000; // 2 s

export function expectedReplicas(clusterSize: number): number {
  return Math.min(MAX_REPLICAS, clusterSize);
}

export function smokeStreamConfig(clusterSize: number): Partial<StreamConfig> {
  return {
    name: SMOKE_STREAM,
    description: "BotPlatform smoke checks: one short-lived message per run",
    subjects: [`${SMOKE_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: expectedReplicas(clusterSize),
    max_age: SMOKE_MAX_AGE_MS * NS_PER_MS,
    max_msgs: SMOKE_MAX_MSGS,
    max_bytes: SMOKE_MAX_BYTES,
    discard: DiscardPolicy.Old,
    duplicate_window: SMOKE_DUPLICATE_WINDOW_MS * NS_PER_MS,
  };
}

/** JetStream without quorum answers "temporarily unavailable", no responders, or not at all. */
export function isJetStreamUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "503" || code === "TIMEOUT" || /temporarily unavailable|no responders|timeout|timed out/i.test(errorMessage(err));
}

/** Runs a JetStream call under the run's deadline; "JetStream unavailable" becomes `NotReadyError`. */
async function jsCall<T>(ctx: ProbeContext, operation: string, op: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(ctx, operation, op(), JS_OP_TIMEOUT_MS);
  } catch (err) {
    if (isJetStreamUnavailable(err)) throw new NotReadyError(`JetStream ${operation}: ${errorMessage(err)}`, { cause: err });
    throw err;
  }
}

/** A replica right behind a write is normal; one still behind after this long is worth a `degraded`. */
export const REPLICA_SETTLE_MS = 3 * 1000; // 3 s: milliseconds on a healthy cluster, seconds on a starved CI box
const REPLICA_POLL_MS = 100;

/** Replicas of a stream the server reports offline or behind, by server name. */
function unhealthyReplicas(info: StreamInfo): string[] {
  return (info.cluster?.replicas ?? []).filter((r) => r.offline === true || !r.current).map((r) => `${r.name}${r.offline ? " offline" : " not current"}`);
}

/** The stream's info once every online replica has caught up, or after `REPLICA_SETTLE_MS` (offline ones do not wait). */
async function settledStreamInfo(jsm: JetStreamManager, ctx: ProbeContext): Promise<StreamInfo> {
  const until = Math.min(ctx.now() + REPLICA_SETTLE_MS, ctx.deadline);
  for (;;) {
    const info = await jsCall(ctx, "stream info", () => jsm.streams.info(SMOKE_STREAM));
    const catchingUp = (info.cluster?.replicas ?? []).some((r) => r.offline !== true && !r.current);
    if (!catchingUp || ctx.now() + REPLICA_POLL_MS > until) return info;
    await new Promise((resolve) => setTimeout(resolve, REPLICA_POLL_MS));
  }
}

/** Creates `BP_SMOKE` or brings it to the expected config (replicas follow the cluster size). */
async function ensureSmokeStream(jsm: JetStreamManager, ctx: ProbeContext, clusterSize: number): Promise<StreamInfo> {
  const config = smokeStreamConfig(clusterSize);
  const existing = await jsCall(ctx, "stream info", () => jsm.streams.info(SMOKE_STREAM)).catch((err: unknown) => {
    if (err instanceof NotReadyError) throw err;
    return undefined; // not found: create it
  });
  if (existing === undefined) return jsCall(ctx, "stream create", () => jsm.streams.add(config));
  if (existing.config.num_replicas !== config.num_replicas || existing.config.max_age !== config.max_age) {
    return jsCall(ctx, "stream update", () => jsm.streams.update(SMOKE_STREAM, config));
  }
  return existing;
}

export async function jetstreamRound(nc: NatsConnection, ctx: ProbeContext, clusterSize: number): Promise<StepOutcome> {
  const jsm = await nc.jetstreamManager({ timeout: JS_OP_TIMEOUT_MS });
  const js = nc.jetstream({ timeout: JS_OP_TIMEOUT_MS });
  await ensureSmokeStream(jsm, ctx, clusterSize);
  const subject = `${SMOKE_SUBJECT_PREFIX}.${ctx.runId}`;
  const consumerName = ctx.runId;
  const payload = `${ctx.runId}:${randomUUID()}`;
  let seq: number | undefined;
  try {
    const ack = await jsCall(ctx, "publish", () => js.publish(subject, payload, { expect: { streamName: SMOKE_STREAM } }));
    seq = ack.seq;
    if (ack.duplicate) return { verdict: "fail", detail: `publish to ${subject} was taken for a duplicate` };
    await jsCall(ctx, "consumer create", () =>
      jsm.consumers.add(SMOKE_STREAM, {
        durable_name: consumerName,
        filter_subject: subject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        inactive_threshold: SMOKE_CONSUMER_INACTIVE_MS * NS_PER_MS,
        // The probe's own cursor needs no Raft group of its own: one replica in memory, created and
        // deleted per run without disk churn on every node. The stream it reads stays replicated.
        num_replicas: 1,
        mem_storage: true,
      }),
    );
    const consumer = await jsCall(ctx, "consumer get", () => js.consumers.get(SMOKE_STREAM, consumerName));
    const message = await jsCall(ctx, "fetch", () => consumer.next({ expires: JS_OP_TIMEOUT_MS }));
    if (message === null) return { verdict: "fail", detail: `consumer ${consumerName} fetched nothing from ${subject} (published seq ${ack.seq})` };
    if (message.string() !== payload || message.seq !== ack.seq) {
      return { verdict: "fail", detail: `fetched seq ${message.seq}, expected seq ${ack.seq} with the published payload` };
    }
    const acked = await jsCall(ctx, "ack", () => message.ackAck());
    if (!acked) return { verdict: "fail", detail: `the server did not confirm the ack of seq ${ack.seq}` };
    const info = await jsCall(ctx, "consumer info", () => jsm.consumers.info(SMOKE_STREAM, consumerName));
    if (info.num_ack_pending !== 0) return { verdict: "fail", detail: `consumer ${consumerName} has ${info.num_ack_pending} unacknowledged after the ack` };
    // The stream's own view of its replicas names a server that is down even without a monitoring endpoint.
    const current = await settledStreamInfo(jsm, ctx);
    const replicas = 1 + (current.cluster?.replicas?.length ?? 0);
    const facts = `published, fetched and acked seq ${ack.seq} on ${SMOKE_STREAM} (R${current.config.num_replicas}, leader ${current.cluster?.leader ?? "n/a"})`;
    const unhealthy = unhealthyReplicas(current);
    if (unhealthy.length > 0) return { verdict: "degraded", detail: `${facts}; replicas ${unhealthy.join(", ")}` };
    if (replicas < expectedReplicas(clusterSize)) return { verdict: "degraded", detail: `${facts}; only ${replicas}/${expectedReplicas(clusterSize)} replicas placed` };
    return facts;
  } finally {
    await bestEffort(jsm.consumers.delete(SMOKE_STREAM, consumerName), CLEANUP_TIMEOUT_MS);
    const published = seq;
    if (published !== undefined) await bestEffort(jsm.streams.deleteMessage(SMOKE_STREAM, published, false), CLEANUP_TIMEOUT_MS);
  }
}

/** Every durable channel has a stream capturing its name, with the expected replicas and its consumer groups. */
export async function checkChannels(nc: NatsConnection, ctx: ProbeContext, channels: readonly Channel[], clusterSize: number): Promise<StepOutcome> {
  const jsm = await nc.jetstreamManager({ timeout: JS_OP_TIMEOUT_MS });
  // One listing (paged by the server, 256 streams a page), not one request per channel.
  const streams = await jsCall(ctx, "stream list", async () => {
    const all: StreamInfo[] = [];
    for await (const info of jsm.streams.list()) all.push(info);
    return all;
  });
  const replicas = expectedReplicas(clusterSize);
  const problems: string[] = [];
  const found: { channel: Channel; stream: StreamInfo }[] = [];
  for (const channel of channels) {
    const stream = streams.find((s) => s.config.subjects?.includes(channel.name));
    if (stream === undefined) problems.push(`no stream captures \`${channel.name}\``);
    else if (stream.config.num_replicas !== replicas) problems.push(`stream ${stream.config.name} has ${stream.config.num_replicas} replicas, expected ${replicas}`);
    if (stream) found.push({ channel, stream });
  }
  // Consumer names per stream, in parallel: a stream's listing carries only their count.
  const consumerLists = await Promise.all(
    found
      .filter(({ channel }) => (channel.consumerGroups ?? []).length > 0)
      .map(async ({ channel, stream }) => {
        const names = await jsCall(ctx, "consumer list", async () => {
          const all: string[] = [];
          for await (const info of jsm.consumers.list(stream.config.name)) all.push(info.name);
          return all;
        });
        return { channel, stream, names: new Set(names) };
      }),
  );
  let groups = 0;
  for (const { channel, stream, names } of consumerLists) {
    for (const group of channel.consumerGroups ?? []) {
      if (names.has(group)) groups++;
      else problems.push(`consumer \`${group}\` missing on stream ${stream.config.name}`);
    }
  }
  if (problems.length > 0) return { verdict: "fail", detail: problems.join("; ") };
  return `${channels.length} channel stream${channels.length === 1 ? "" : "s"} (R${replicas}) and ${groups} consumer${groups === 1 ? "" : "s"} present`;
}
