/**
 * What the RabbitMQ probe reads over HTTP: the endpoint block normalised once (every AMQP URL and
 * management URL to try, in order; credentials; vhost), GETs against the management API with node
 * fallback, and PURE judgements of its answers (`/api/nodes`, `/api/queues/<vhost>`), so every verdict
 * is unit-tested without a broker.
 */
import type { Channel, RabbitmqEndpoint } from "./endpoints.js";
import { NotReadyError, type ProbeContext } from "./probe.js";
import type { StepOutcome } from "./steps.js";
import { errorMessage, remainingMs } from "./steps.js";

/** Upper bound of one management request; the deadline may cut it shorter. */
export const MANAGEMENT_TIMEOUT_CAP_MS = 5 * 1000; // 5 s

export interface RabbitmqTarget {
  /** `url` first, then `url` re-pointed at every other `addresses` entry. */
  amqpUrls: string[];
  /** `managementUrl` first, then `managementUrls`; without credentials. */
  managementUrls: string[];
  user: string;
  password: string;
  vhost: string;
  clusterSize: number;
}

const AMQP_DEFAULT_PORT: Record<string, string> = { "amqp:": "5672", "amqps:": "5671" };

/** `host:port` of an AMQP URL, for messages (never the user info). */
export function amqpAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port === "" ? (AMQP_DEFAULT_PORT[parsed.protocol] ?? "5672") : parsed.port}`;
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.toString().replace(/\/$/, "");
}

export function rabbitmqTarget(endpoint: RabbitmqEndpoint): RabbitmqTarget {
  const url = new URL(endpoint.url);
  const amqpUrls = [endpoint.url];
  for (const address of endpoint.addresses ?? []) {
    const other = new URL(endpoint.url);
    other.host = address;
    if (!amqpUrls.some((u) => amqpAddress(u) === amqpAddress(other.toString()))) amqpUrls.push(other.toString());
  }
  const management = [endpoint.managementUrl, ...(endpoint.managementUrls ?? [])].filter((u): u is string => u !== undefined).map(withoutCredentials);
  const managementAuth = endpoint.managementUrl !== undefined ? new URL(endpoint.managementUrl) : undefined;
  const useManagementAuth = managementAuth !== undefined && managementAuth.username !== "";
  // AMQP's default vhost is `/`; a URL path is the vhost, percent-encoded.
  const path = url.pathname.replace(/^\//, "");
  return {
    amqpUrls,
    managementUrls: [...new Set(management)],
    user: decodeURIComponent((useManagementAuth ? managementAuth : url).username) || "guest",
    password: decodeURIComponent((useManagementAuth ? managementAuth : url).password) || "guest",
    vhost: path === "" ? "/" : decodeURIComponent(path),
    clusterSize: endpoint.clusterSize ?? 1,
  };
}

/**
 * GETs `path` from the first management URL that answers. Throws `NotReadyError` when none does
 * (nodes still booting, or paused in a minority), a plain `Error` on an HTTP error status.
 */
export async function managementGet<T>(target: RabbitmqTarget, path: string, ctx: Pick<ProbeContext, "deadline" | "now" | "signal">): Promise<{ body: T; via: string }> {
  const failures: string[] = [];
  const authorization = `Basic ${Buffer.from(`${target.user}:${target.password}`).toString("base64")}`;
  for (const base of target.managementUrls) {
    const timeout = Math.max(1, Math.min(remainingMs(ctx), MANAGEMENT_TIMEOUT_CAP_MS));
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { headers: { authorization }, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeout)]) });
    } catch (err) {
      failures.push(`${new URL(base).host}: ${errorMessage(err instanceof Error && err.cause !== undefined ? err.cause : err)}`);
      continue;
    }
    if (response.status === 401) throw new Error(`management API refused user \`${target.user}\` (HTTP 401): wrong password, or the user lacks the \`monitoring\` tag`);
    if (!response.ok) throw new Error(`management API ${path.split("?")[0]} answered HTTP ${response.status}`);
    return { body: (await response.json()) as T, via: new URL(base).host };
  }
  throw new NotReadyError(`no management API answers: ${failures.join("; ")}`);
}

/** One entry of `GET /api/nodes?columns=...`; stats columns are absent on a node not reporting yet. */
export interface NodeInfo {
  name: string;
  running: boolean;
  partitions?: string[];
  mem_alarm?: boolean;
  disk_free_alarm?: boolean;
}

export const NODES_PATH = "/api/nodes?columns=name,running,partitions,mem_alarm,disk_free_alarm";

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Cluster health from `/api/nodes`: alarms and partitions fail; a lost minority is degraded; a lost majority fails. */
export function judgeNodes(nodes: readonly NodeInfo[], expected: number): StepOutcome {
  const running = nodes.filter((n) => n.running);
  const down = nodes.filter((n) => !n.running).map((n) => n.name);
  const problems: string[] = [];
  for (const node of running) {
    if (node.mem_alarm === true) problems.push(`memory alarm on ${node.name}: publishers are blocked`);
    if (node.disk_free_alarm === true) problems.push(`disk alarm on ${node.name}: publishers are blocked`);
    if ((node.partitions ?? []).length > 0) problems.push(`network partition: ${node.name} cannot see ${node.partitions!.join(", ")}`);
  }
  const size = `${running.length}/${expected} nodes running`;
  const downText = down.length > 0 ? ` (down: ${down.join(", ")})` : "";
  // A majority of the expected size keeps quorum queues available; fewer pauses the cluster.
  if (running.length <= expected / 2) problems.push(`quorum lost: ${size}${downText}`);
  if (problems.length > 0) return { verdict: "fail", detail: problems.join("; ") };
  if (running.length < expected) {
    const missing = expected - nodes.length;
    const notJoined = missing > 0 ? `${plural(missing, "expected node")} never joined the cluster` : "";
    return { verdict: "degraded", detail: `${size}: ${[...down.map((n) => `${n} is down`), notJoined].filter(Boolean).join(", ")}` };
  }
  return `${running.length}/${expected} nodes running, no alarms, no partitions`;
}

/** Queues provisioning declares: a quorum queue `<channel>.<group>` per consumer group of a durable channel. */
export function expectedQueues(channels: readonly Channel[]): string[] {
  return channels.filter((c) => c.durable).flatMap((c) => (c.consumerGroups ?? []).map((group) => `${c.name}.${group}`));
}

/** Channel queues from one `/api/queues/<vhost>?columns=name,type` answer: each must exist as a quorum queue. */
export function judgeQueues(queues: readonly { name: string; type?: string }[], expected: readonly string[], vhost: string): StepOutcome {
  const byName = new Map(queues.map((q) => [q.name, q.type]));
  const problems: string[] = [];
  for (const name of expected) {
    const type = byName.get(name);
    if (!byName.has(name)) problems.push(`queue \`${name}\` missing in vhost \`${vhost}\``);
    else if (type !== "quorum") problems.push(`queue \`${name}\` is ${type ?? "of unknown type"}, expected quorum`);
  }
  if (problems.length > 0) return { verdict: "fail", detail: problems.join("; ") };
  return `${plural(expected.length, "channel quorum queue")} present`;
}
