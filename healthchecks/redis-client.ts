/**
 * ioredis configured for a probe: no built-in retries or offline queue (the runner owns retrying),
 * timeouts derived from the deadline, every error event handled (no "Unhandled error event" noise),
 * and connect failures sorted into "not ready yet, retry" and "fails now, with a reason".
 */
import { Redis } from "ioredis";
import { TimeoutError } from "./errors/timeout-error.js";
import { NotReadyError, type ProbeContext } from "./probe.js";
import { errorMessage, remainingMs, withTimeout } from "./steps.js";

/** Upper bound for one connect attempt; the runner retries until the deadline. */
export const CONNECT_TIMEOUT_CAP_MS = 10 * 1000; // 10 s

/** `host:port` of a Redis URL, for messages (never the user info). */
export function redisTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}`;
}

/** The ACL user a URL authenticates as (`default` when it names none). */
export function redisUser(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  return user === "" ? "default" : user;
}

export interface ProbeClient {
  client: Redis;
  /** The last error the client emitted (ioredis rejects `connect()` with a bare "Connection is closed."). */
  lastError(): Error | undefined;
}

export function createClient(url: string, ctx: Pick<ProbeContext, "deadline" | "now" | "runId">): ProbeClient {
  let last: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: null,
    autoResubscribe: false,
    connectTimeout: Math.max(1, Math.min(remainingMs(ctx), CONNECT_TIMEOUT_CAP_MS)),
    connectionName: ctx.runId, // shows up in CLIENT LIST: which smoke run holds a connection
  });
  client.on("error", (err: Error) => {
    last = err;
  });
  return { client, lastError: () => last };
}

const TLS_FAILURE = /CERT|SSL|TLS|self[- ]signed|certificate/i;

/**
 * Connects or throws: `NotReadyError` when the server may come up (refused, timed out, unresolvable,
 * loading), a plain `Error` with the reason when it will not (authentication, TLS verification).
 */
export async function connectProbeClient(probeClient: ProbeClient, url: string, ctx: Pick<ProbeContext, "deadline" | "now" | "signal">): Promise<void> {
  const target = redisTarget(url);
  try {
    await withTimeout(ctx, `connect to ${target}`, probeClient.client.connect(), CONNECT_TIMEOUT_CAP_MS);
  } catch (thrown) {
    probeClient.client.disconnect();
    const err = probeClient.lastError() ?? thrown;
    const message = errorMessage(err);
    const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
    if (message.startsWith("WRONGPASS")) throw new Error(`authentication failed for user ${redisUser(url)}`);
    if (message.startsWith("NOAUTH")) throw new Error(`authentication required at ${target}: the endpoints URL has no password`);
    if (TLS_FAILURE.test(code) || TLS_FAILURE.test(message)) throw new Error(`TLS handshake with ${target} failed: ${message}`);
    if (err instanceof TimeoutError) throw new NotReadyError(`no answer from ${target} within ${err.timeoutMs} ms`, { cause: err });
    switch (code) {
      case "ECONNREFUSED":
        throw new NotReadyError(`connection refused at ${target}`, { cause: err });
      case "ETIMEDOUT":
        throw new NotReadyError(`connect to ${target} timed out`, { cause: err });
      case "ENOTFOUND":
      case "EAI_AGAIN":
        throw new NotReadyError(`cannot resolve ${new URL(url).hostname}`, { cause: err });
      default:
        // Resets, LOADING, a closed socket: the server is starting or restarting.
        throw new NotReadyError(`cannot connect to ${target}: ${message}`, { cause: err });
    }
  }
}
