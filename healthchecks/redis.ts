/**
 * The Redis probe (DESIGN.md §4): connect + PING, INFO (version, role, replicas against `replicas`),
 * a Pub/Sub round, a Streams round with a consumer group (XADD, XREADGROUP, XACK, XPENDING empty),
 * and one pipelined check that every durable channel's stream and consumer groups exist.
 *
 * Every object it creates is named `bp:smoke:<runId>:...`, gets an EXPIRE at creation (a crashed run
 * leaves nothing behind for long) and is deleted at the end.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { RedisEndpoint } from "./endpoints.js";
import type { Probe, ProbeContext } from "./probe.js";
import { connectProbeClient, createClient, redisTarget } from "./redis-client.js";
import { judgeReplication, parseInfo } from "./redis-info.js";
import { StepRecorder, bestEffort, errorMessage, withTimeout, type StepOutcome } from "./steps.js";

export const SMOKE_KEY_PREFIX = "bp:smoke:";
/** TTL set on the smoke stream at creation: a crashed run leaves it for at most this long. */
export const SMOKE_KEY_TTL_S = 60;
/** Cleanup (DEL) gets its own short budget: it must run even when the deadline has passed. */
const CLEANUP_TIMEOUT_MS = 1000;
const GROUP = "bp-smoke";
const CONSUMER = "probe";

const smokeKey = (ctx: ProbeContext, what: string): string => `${SMOKE_KEY_PREFIX}${ctx.runId}:${what}`;
const newPayload = (ctx: ProbeContext): string => `${ctx.runId}:${randomUUID()}`;

async function pingAndInfo(client: Redis, ctx: ProbeContext, endpoint: RedisEndpoint): Promise<StepOutcome> {
  const [pong, info] = await withTimeout(ctx, "PING+INFO", Promise.all([client.ping(), client.info()]));
  if (pong !== "PONG") return { verdict: "fail", detail: `PING answered ${JSON.stringify(pong)}` };
  return judgeReplication(parseInfo(info), endpoint.replicas ?? 0);
}

async function pubSubRound(client: Redis, subscriber: Redis, ctx: ProbeContext): Promise<StepOutcome> {
  const channel = smokeKey(ctx, "pubsub");
  const payload = newPayload(ctx);
  await withTimeout(ctx, "subscriber connect", subscriber.connect());
  const received = new Promise<string>((resolve) => {
    subscriber.on("message", (from: string, message: string) => {
      if (from === channel) resolve(message);
    });
  });
  await withTimeout(ctx, "SUBSCRIBE", subscriber.subscribe(channel));
  const receivers = await withTimeout(ctx, "PUBLISH", client.publish(channel, payload));
  if (receivers < 1) return { verdict: "fail", detail: `PUBLISH reached ${receivers} subscribers` };
  const message = await withTimeout(ctx, "Pub/Sub message", received);
  if (message !== payload) return { verdict: "fail", detail: "received a different payload than published" };
  return `published and received on ${channel}`;
}

type XReadReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

async function streamsRound(client: Redis, ctx: ProbeContext): Promise<StepOutcome> {
  const key = smokeKey(ctx, "stream");
  const payload = newPayload(ctx);
  try {
    // Create and set the TTL atomically: no moment where the key exists without one.
    const created = await withTimeout(ctx, "XGROUP CREATE+EXPIRE", client.multi().xgroup("CREATE", key, GROUP, "$", "MKSTREAM").expire(key, SMOKE_KEY_TTL_S).exec());
    const createError = created?.find(([err]) => err !== null)?.[0];
    if (createError) throw createError;
    const id = await withTimeout(ctx, "XADD", client.xadd(key, "*", "payload", payload));
    const read = (await withTimeout(ctx, "XREADGROUP", client.xreadgroup("GROUP", GROUP, CONSUMER, "COUNT", 1, "STREAMS", key, ">"))) as XReadReply;
    const entry = read?.[0]?.[1]?.[0];
    if (entry === undefined) return { verdict: "fail", detail: `XREADGROUP returned nothing from ${key}` };
    const [readId, fields] = entry;
    if (readId !== id || fields[1] !== payload) return { verdict: "fail", detail: `XREADGROUP returned entry ${readId}, expected ${String(id)} with the published payload` };
    const acked = await withTimeout(ctx, "XACK", client.xack(key, GROUP, readId));
    if (acked !== 1) return { verdict: "fail", detail: `XACK acknowledged ${acked} entries, expected 1` };
    const [pending] = (await withTimeout(ctx, "XPENDING", client.xpending(key, GROUP))) as [number, ...unknown[]];
    if (pending !== 0) return { verdict: "fail", detail: `XPENDING lists ${pending} entries after XACK` };
    return `XADD, XREADGROUP, XACK on ${key}; nothing pending`;
  } finally {
    await bestEffort(client.del(key), CLEANUP_TIMEOUT_MS);
  }
}

/** Groups named in an `XINFO GROUPS` reply (RESP2-shaped: one flat `[field, value, ...]` per group). */
function groupNames(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((group: unknown) => {
    if (!Array.isArray(group)) return [];
    const at = group.indexOf("name");
    return at >= 0 ? [String(group[at + 1])] : [];
  });
}

async function checkChannels(client: Redis, ctx: ProbeContext): Promise<StepOutcome> {
  const durable = (ctx.endpoints.channels ?? []).filter((c) => c.durable);
  const pipeline = client.pipeline();
  for (const channel of durable) pipeline.xinfo("GROUPS", channel.name);
  const replies = (await withTimeout(ctx, "XINFO GROUPS", pipeline.exec())) ?? [];
  const problems: string[] = [];
  let groups = 0;
  durable.forEach((channel, i) => {
    const [err, reply] = replies[i] ?? [new Error("no reply"), undefined];
    if (err) {
      problems.push(/no such key/i.test(err.message) ? `stream \`${channel.name}\` missing` : `\`${channel.name}\`: ${errorMessage(err)}`);
      return;
    }
    const present = new Set(groupNames(reply));
    for (const group of channel.consumerGroups ?? []) {
      if (present.has(group)) groups++;
      else problems.push(`consumer group \`${group}\` missing on \`${channel.name}\``);
    }
  });
  if (problems.length > 0) return { verdict: "fail", detail: problems.join("; ") };
  return `${durable.length} durable channel stream${durable.length === 1 ? "" : "s"} and ${groups} consumer group${groups === 1 ? "" : "s"} present`;
}

export const redisProbe: Probe = async (ctx) => {
  const endpoint = ctx.endpoints.redis;
  if (endpoint === undefined) throw new Error("endpoints have no `redis` block");
  const steps = new StepRecorder("redis", ctx);
  const main = createClient(endpoint.url, ctx);
  // Pub/Sub needs a connection of its own (a subscribed connection takes no other commands).
  const subscriber = main.client.duplicate();
  subscriber.on("error", () => {}); // surfaces as a rejected command instead
  const closeAll = (): void => {
    main.client.disconnect();
    subscriber.disconnect();
  };
  ctx.signal.addEventListener("abort", closeAll, { once: true });
  try {
    const connected = await steps.run("connect", async () => {
      await connectProbeClient(main, endpoint.url, ctx);
      return `${redisTarget(endpoint.url)}${endpoint.url.startsWith("rediss:") ? " (TLS)" : ""}`;
    });
    if (connected.verdict === "fail") return steps.result();

    const sequence: [string, () => Promise<StepOutcome>][] = [
      ["ping-info", () => pingAndInfo(main.client, ctx, endpoint)],
      ["pubsub-round", () => pubSubRound(main.client, subscriber, ctx)],
      ["streams-round", () => streamsRound(main.client, ctx)],
    ];
    if ((ctx.endpoints.channels ?? []).some((c) => c.durable)) sequence.push(["channels", () => checkChannels(main.client, ctx)]);
    for (const [name, body] of sequence) {
      if ((await steps.run(name, body)).verdict === "fail") break; // later steps would only repeat the cause
    }
    return steps.result();
  } finally {
    ctx.signal.removeEventListener("abort", closeAll);
    closeAll();
  }
};
