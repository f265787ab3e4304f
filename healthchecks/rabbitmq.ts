/**
 * The RabbitMQ probe (DESIGN.md §4): connect over AMQP (trying every node the endpoint lists, so a down
 * node behind `url` is not a failure by itself), cluster health from the management API (running nodes
 * against `clusterSize`, memory/disk alarms, partitions), a quorum-queue round (declare a per-run queue
 * that expires when idle, publish with confirms and `mandatory`, consume with a manual ack, compare,
 * delete), and one API call proving every channel queue exists as a quorum queue.
 *
 * Client: amqplib, the AMQP 0-9-1 client RabbitMQ's own JavaScript tutorials use.
 */
import { randomUUID } from "node:crypto";
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { NotReadyError, type Probe, type ProbeContext } from "./probe.js";
import {
  amqpAddress,
  expectedQueues,
  judgeNodes,
  judgeQueues,
  managementGet,
  NODES_PATH,
  rabbitmqTarget,
  type NodeInfo,
  type RabbitmqTarget,
} from "./rabbitmq-management.js";
import { StepRecorder, bestEffort, errorMessage, remainingMs, withTimeout, type StepOutcome } from "./steps.js";

/** Upper bound of one connect attempt per node; the runner retries the whole probe until the deadline. */
export const CONNECT_TIMEOUT_CAP_MS = 5 * 1000; // 5 s
/** The smoke queue deletes itself this long after its last use: a crashed run leaves nothing for long. */
export const SMOKE_QUEUE_EXPIRES_MS = 60 * 1000; // 60 s
/** Cleanup gets its own short budget: it must run even when the deadline has passed. */
const CLEANUP_TIMEOUT_MS = 2 * 1000;

// Refused, reset, unresolvable, timed out: the node may come up. Auth and vhost errors during a fresh
// boot (definitions not imported yet) are retried too; at the deadline they are the reason shown.
const RETRYABLE = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timed out|socket closed|ACCESS[-_]REFUSED|NOT[-_]ALLOWED|CONNECTION[-_]FORCED/i;

interface Connected {
  connection: ChannelModel;
  url: string;
  refused: string[];
}

/** Connects to the first node that accepts; `NotReadyError` when none does (booting, or paused in a minority). */
async function connectAny(target: RabbitmqTarget, ctx: ProbeContext): Promise<Connected> {
  const refused: string[] = [];
  let fatal: Error | undefined;
  for (const url of target.amqpUrls) {
    const timeout = Math.max(1, Math.min(remainingMs(ctx), CONNECT_TIMEOUT_CAP_MS));
    const pending = connect(url, { timeout, clientProperties: { connection_name: ctx.runId } });
    try {
      const connection = await withTimeout(ctx, `connect to ${amqpAddress(url)}`, pending, timeout);
      connection.on("error", () => {}); // surfaces as a rejected operation instead
      return { connection, url, refused };
    } catch (err) {
      const message = errorMessage(err);
      pending.then((late) => late.close()).catch(() => {}); // a connection that opens after the timeout
      refused.push(`${amqpAddress(url)}: ${message}`);
      if (!RETRYABLE.test(message)) fatal ??= new Error(`${amqpAddress(url)}: ${message}`);
    }
  }
  if (fatal !== undefined) throw fatal;
  throw new NotReadyError(`no RabbitMQ node accepts AMQP connections (${refused.join("; ")})`);
}

async function clusterHealth(target: RabbitmqTarget, ctx: ProbeContext): Promise<StepOutcome> {
  const { body, via } = await managementGet<NodeInfo[]>(target, NODES_PATH, ctx);
  const outcome = judgeNodes(body, target.clusterSize);
  return typeof outcome === "string" ? `${outcome} (via ${via})` : outcome;
}

/** Resolves with the first delivery on `queue`; the consumer stays until the caller cancels it. */
function firstDelivery(channel: Channel, queue: string): { message: Promise<ConsumeMessage>; tag: Promise<string> } {
  let resolveMessage!: (m: ConsumeMessage) => void;
  let rejectMessage!: (e: Error) => void;
  const message = new Promise<ConsumeMessage>((resolve, reject) => {
    resolveMessage = resolve;
    rejectMessage = reject;
  });
  const tag = channel
    .consume(queue, (m) => (m === null ? rejectMessage(new Error(`consumer on ${queue} was cancelled by the broker`)) : resolveMessage(m)), { noAck: false })
    .then((reply) => reply.consumerTag);
  return { message, tag };
}

async function quorumRound(connection: ChannelModel, ctx: ProbeContext): Promise<StepOutcome> {
  const queue = `${ctx.runId}.quorum`;
  const payload = `${ctx.runId}:${randomUUID()}`;
  const messageId = randomUUID();
  const channel: ConfirmChannel = await withTimeout(ctx, "open confirm channel", connection.createConfirmChannel());
  channel.on("error", () => {}); // a channel error rejects the operation in flight
  let returned = false;
  channel.on("return", () => {
    returned = true;
  });
  try {
    const declared = await withTimeout(
      ctx,
      `declare quorum queue ${queue}`,
      channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum", "x-expires": SMOKE_QUEUE_EXPIRES_MS } }),
    );
    if (declared.messageCount !== 0) return { verdict: "fail", detail: `fresh queue ${queue} already holds ${declared.messageCount} messages` };
    const confirmed = new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, Buffer.from(payload), { persistent: true, mandatory: true, messageId }, (err: unknown) => (err ? reject(new Error("the broker nacked the message")) : resolve()));
    });
    await withTimeout(ctx, "publisher confirm", confirmed);
    // The broker sends basic.return before the confirm, so an unroutable message is known by now.
    if (returned) return { verdict: "fail", detail: `the message to ${queue} was returned as unroutable` };
    const { message, tag } = firstDelivery(channel, queue);
    const received = await withTimeout(ctx, `consume from ${queue}`, message);
    if (received.content.toString() !== payload || received.properties.messageId !== messageId) {
      return { verdict: "fail", detail: `received a different message than published on ${queue}` };
    }
    channel.ack(received);
    await withTimeout(ctx, "cancel consumer", tag.then((t) => channel.cancel(t)));
    return `published (confirmed), consumed and acked on quorum queue ${queue}`;
  } finally {
    await bestEffort(channel.deleteQueue(queue).then(() => channel.close()), CLEANUP_TIMEOUT_MS);
  }
}

async function channelQueues(target: RabbitmqTarget, connection: ChannelModel, ctx: ProbeContext, expected: string[]): Promise<StepOutcome> {
  if (target.managementUrls.length > 0) {
    const path = `/api/queues/${encodeURIComponent(target.vhost)}?columns=name,type`;
    const { body } = await managementGet<{ name: string; type?: string }[]>(target, path, ctx);
    return judgeQueues(body, expected, target.vhost);
  }
  // Without the management API only existence can be checked: a passive declare per queue.
  const missing: string[] = [];
  for (const name of expected) {
    const channel = await withTimeout(ctx, "open channel", connection.createChannel());
    channel.on("error", () => {});
    try {
      await withTimeout(ctx, `check queue ${name}`, channel.checkQueue(name));
      await bestEffort(channel.close(), CLEANUP_TIMEOUT_MS);
    } catch {
      missing.push(`queue \`${name}\` missing in vhost \`${target.vhost}\``);
    }
  }
  if (missing.length > 0) return { verdict: "fail", detail: missing.join("; ") };
  return `${expected.length} channel queues present (type not checked: no managementUrl)`;
}


export const rabbitmqProbe: Probe = async (ctx) => {
  const endpoint = ctx.endpoints.rabbitmq;
  if (endpoint === undefined) throw new Error("endpoints have no `rabbitmq` block");
  const target = rabbitmqTarget(endpoint);
  const steps = new StepRecorder("rabbitmq", ctx);
  let connection: ChannelModel | undefined;
  const closeAll = (): void => {
    void connection?.close().catch(() => {});
  };
  ctx.signal.addEventListener("abort", closeAll, { once: true });
  try {
    const connectStarted = ctx.now();
    const connected = await connectAny(target, ctx); // NotReadyError propagates: the runner retries
    connection = connected.connection;
    const fallback = connected.refused.length > 0 ? ` after ${connected.refused.join("; ")}` : "";
    steps.add({ name: "connect", verdict: "pass", durationMs: ctx.now() - connectStarted, detail: `${amqpAddress(connected.url)} vhost ${target.vhost}${fallback}` });

    const sequence: [string, () => Promise<StepOutcome>][] = [];
    if (target.managementUrls.length > 0) sequence.push(["cluster", () => clusterHealth(target, ctx)]);
    sequence.push(["quorum-round", () => quorumRound(connected.connection, ctx)]);
    const expected = expectedQueues(ctx.endpoints.channels ?? []);
    if (expected.length > 0) sequence.push(["channels", () => channelQueues(target, connected.connection, ctx, expected)]);
    for (const [name, body] of sequence) {
      // A failed step stops the rest: behind an alarm a publish would only block until the deadline.
      if ((await steps.run(name, body)).verdict === "fail") break;
    }
    return steps.result();
  } finally {
    ctx.signal.removeEventListener("abort", closeAll);
    if (connection !== undefined) await bestEffort(connection.close(), CLEANUP_TIMEOUT_MS);
  }
};
