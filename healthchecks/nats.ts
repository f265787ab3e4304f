/**
 * The NATS JetStream probe (DESIGN.md §4): connect as the endpoint's user; cluster health from every
 * reachable monitoring endpoint (routes, JetStream meta leader, peers current); a core pub/sub round; a
 * request/reply round; a durable JetStream round (publish with ack on `BP_SMOKE`, fetch through a
 * per-run durable pull consumer, ack, compare, delete); and one listing that every durable channel's
 * stream and consumer groups exist with the expected replicas.
 *
 * One server down of three: `degraded`, naming it (from the meta leader's peer list, or the probe
 * stream's replica list when no monitor of a live server is known), while the replicated publish still
 * succeeds. Quorum lost: `NotReadyError` until the deadline, then `fail` with the reason.
 */
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import type { NatsEndpoint } from "./endpoints.js";
import { LAGGING_PEERS, fetchSnapshot, judgeCluster } from "./nats-cluster.js";
import { checkChannels, jetstreamRound } from "./nats-jetstream.js";
import { NotReadyError, type Probe, type ProbeContext } from "./probe.js";
import { redact } from "./redact.js";
import { StepRecorder, errorMessage, remainingMs, withTimeout, type StepOutcome } from "./steps.js";

/** Subjects of the core rounds (outside the probe stream's `bp.smoke.>`: core messages are not stored). */
export const PROBE_SUBJECT_PREFIX = "bp.probe";
/** One connection attempt to the server list; the runner retries a refused connection until the deadline. */
export const CONNECT_TIMEOUT_MS = 5 * 1000; // 5 s
/** One core round (publish -> message, request -> reply). */
const ROUND_TIMEOUT_MS = 5 * 1000; // 5 s
const CLOSE_TIMEOUT_MS = 2 * 1000; // 2 s
/** Looks at the cluster before peers that stay behind make it `degraded`, and the pause between looks. */
const LAGGING_LOOKS = 3;
const LAGGING_RETRY_MS = 500;

/** Errors that mean "the servers are not there (yet)", as opposed to a wrong password or a bad URL. */
const NOT_READY_CODES = new Set(["CONNECTION_REFUSED", "CONNECTION_TIMEOUT", "TIMEOUT", "DISCONNECT", "CONNECTION_CLOSED"]);

/** The monitoring endpoints to read: every node's when provisioning gave them, else the one `monitorUrl`. */
export function monitorUrlsOf(endpoint: NatsEndpoint): string[] {
  return endpoint.monitorUrls ?? (endpoint.monitorUrl !== undefined ? [endpoint.monitorUrl] : []);
}

async function connectProbe(endpoint: NatsEndpoint, ctx: ProbeContext): Promise<NatsConnection> {
  try {
    return await withTimeout(
      ctx,
      "connect",
      connect({
        servers: endpoint.servers,
        ...(endpoint.user !== undefined && { user: endpoint.user, pass: endpoint.password }),
        name: ctx.runId,
        timeout: Math.max(1, Math.min(CONNECT_TIMEOUT_MS, remainingMs(ctx))),
        // One pass over the list: the runner owns retrying.
        reconnect: false,
        // A server's gossip may name addresses only other clients can reach; start from the given list.
        ignoreClusterUpdates: true,
      }),
      CONNECT_TIMEOUT_MS,
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && NOT_READY_CODES.has(code)) throw new NotReadyError(`no server answered (${endpoint.servers.map(redact).join(", ")}): ${errorMessage(err)}`, { cause: err });
    if (/ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|timeout/i.test(errorMessage(err))) throw new NotReadyError(`no server answered: ${errorMessage(err)}`, { cause: err });
    throw err;
  }
}

async function clusterHealth(endpoint: NatsEndpoint, ctx: ProbeContext): Promise<StepOutcome> {
  const urls = monitorUrlsOf(endpoint);
  if (urls.length === 0) return "no monitorUrl given: judged by the JetStream round's replica view";
  for (let look = 1; ; look++) {
    const outcome = judgeCluster(await Promise.all(urls.map((url) => fetchSnapshot(url, ctx))), endpoint.clusterSize ?? 1);
    // A peer a moment behind the leader (a write in flight) catches up by itself: look again first.
    const lagging = typeof outcome === "object" && outcome.detail?.startsWith(LAGGING_PEERS) === true;
    if (!lagging || look >= LAGGING_LOOKS || remainingMs(ctx) < LAGGING_RETRY_MS * 2) return outcome;
    await new Promise((resolve) => setTimeout(resolve, LAGGING_RETRY_MS));
  }
}

async function pubSubRound(nc: NatsConnection, ctx: ProbeContext): Promise<StepOutcome> {
  const subject = `${PROBE_SUBJECT_PREFIX}.${ctx.runId}.pubsub`;
  const payload = `${ctx.runId}:${randomUUID()}`;
  const sub = nc.subscribe(subject, { max: 1 });
  try {
    const received = (async () => {
      for await (const message of sub) return message.string();
      return undefined;
    })();
    // The subscription must be known to the server before the publish, or the message has no receiver.
    await withTimeout(ctx, "flush", nc.flush(), ROUND_TIMEOUT_MS);
    nc.publish(subject, payload);
    const message = await withTimeout(ctx, "message", received, ROUND_TIMEOUT_MS);
    if (message !== payload) return { verdict: "fail", detail: `received ${message === undefined ? "nothing" : "a different payload"} on ${subject}` };
    return `published and received on ${subject}`;
  } finally {
    sub.unsubscribe();
  }
}

async function requestReplyRound(nc: NatsConnection, ctx: ProbeContext): Promise<StepOutcome> {
  const subject = `${PROBE_SUBJECT_PREFIX}.${ctx.runId}.rpc`;
  const payload = `${ctx.runId}:${randomUUID()}`;
  const responder = nc.subscribe(subject, { max: 1, callback: (_err, message) => message.respond(`re:${message.string()}`) });
  try {
    await withTimeout(ctx, "flush", nc.flush(), ROUND_TIMEOUT_MS);
    const reply = await withTimeout(ctx, "request", nc.request(subject, payload, { timeout: Math.max(1, Math.min(ROUND_TIMEOUT_MS, remainingMs(ctx))) }), ROUND_TIMEOUT_MS);
    if (reply.string() !== `re:${payload}`) return { verdict: "fail", detail: `request on ${subject} got a different reply` };
    return `request on ${subject} answered`;
  } finally {
    responder.unsubscribe();
  }
}

export const natsProbe: Probe = async (ctx) => {
  const endpoint = ctx.endpoints.nats;
  if (endpoint === undefined) throw new Error("endpoints have no `nats` block");
  const clusterSize = endpoint.clusterSize ?? 1;
  const steps = new StepRecorder("nats", ctx);
  let nc: NatsConnection | undefined;
  const closeAll = (): void => {
    void nc?.close().catch(() => undefined);
  };
  ctx.signal.addEventListener("abort", closeAll, { once: true });
  try {
    const connected = await steps.run("connect", async () => {
      nc = await connectProbe(endpoint, ctx);
      const info = nc.info;
      return `${info?.server_name ?? nc.getServer()} (nats-server ${info?.version ?? "?"})${endpoint.user !== undefined ? ` as ${endpoint.user}` : ""}`;
    });
    const client = nc;
    if (connected.verdict === "fail" || client === undefined) return steps.result();

    const channels = (ctx.endpoints.channels ?? []).filter((c) => c.durable);
    const sequence: [string, () => Promise<StepOutcome>][] = [
      ["cluster", () => clusterHealth(endpoint, ctx)],
      ["pubsub-round", () => pubSubRound(client, ctx)],
      ["request-reply", () => requestReplyRound(client, ctx)],
      ["jetstream-round", () => jetstreamRound(client, ctx, clusterSize)],
    ];
    if (channels.length > 0) sequence.push(["channels", () => checkChannels(client, ctx, channels, clusterSize)]);
    for (const [name, body] of sequence) {
      if ((await steps.run(name, body)).verdict === "fail") break; // later steps would only repeat the cause
    }
    return steps.result();
  } finally {
    ctx.signal.removeEventListener("abort", closeAll);
    if (nc) await withTimeout({ ...ctx, deadline: ctx.now() + CLOSE_TIMEOUT_MS, signal: new AbortController().signal }, "close", nc.close()).catch(() => undefined);
  }
};
