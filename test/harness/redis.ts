/**
 * Real redis-server processes on 127.0.0.1 for tests: standalone, primary + replica, with or without a
 * password, or from an already rendered redis.conf (the Redis tier's `config.ts` output) with the
 * harness's local addressing (`port`, `bind`, `dir`, ...) applied on top.
 *
 * redis.conf semantics: for single-valued directives the last occurrence wins, so the file is written
 * as  [harness defaults] + [configText] + [harness addressing + auth + replicaof] + [overrides].
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { LOCALHOST, freePort } from "./ports.js";
import { makeTempDir, startProcess, withStartRetries, type ManagedProcess } from "./process.js";

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
const PROBE_CONNECT_TIMEOUT_MS = 1000; // 1 s: the server is local; a slow answer means "not yet"

export interface StartRedisOptions {
  /** `requirepass` (the `default` user's password) and `masterauth`. */
  password?: string;
  /** Start as a replica of this server (`replicaof 127.0.0.1 <port>`); waits until the link is up. */
  replicaOf?: Pick<RedisServer, "port" | "password">;
  /** An already rendered redis.conf; the harness's port/bind/dir/logging directives override it. */
  configText?: string;
  /** Directives appended last, e.g. `{ appendonly: "yes" }`. Values are written verbatim. */
  overrides?: Readonly<Record<string, string>>;
  /** Used for the temp dir and log file. @default "redis" */
  name?: string;
  /** Listen on this port instead of a free one (e.g. to restart a server where clients expect it). */
  port?: number;
  /** Also listen for TLS (server auth only) on a second port; paths to PEM files. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  readyTimeoutMs?: number;
}

export interface RedisServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `redis://[default:<password>@]127.0.0.1:<port>/0`, ready for an endpoints document. */
  readonly url: string;
  /** With `tls`: the TLS port and its `rediss://` URL. */
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  readonly password?: string;
  readonly dir: string;
  readonly logFile: string;
  readonly process: ManagedProcess;
  /** A fresh client (no retries, no offline queue). The caller must `quit()` or `disconnect()` it. */
  client(): Promise<Redis>;
  stop(): Promise<void>;
}

// Defaults a rendered config may override: no persistence, so tests never wait on disk, and no 5 s
// pause before a diskless full sync, so a replica is online at once.
const HARNESS_DEFAULTS = ['save ""', "appendonly no", "repl-diskless-sync-delay 0"];

export function redisUrl(port: number, password?: string, scheme: "redis" | "rediss" = "redis"): string {
  const auth = password === undefined ? "" : `default:${encodeURIComponent(password)}@`;
  return `${scheme}://${auth}${LOCALHOST}:${port}/0`;
}

/** Renders the full redis.conf the harness runs (exported so a tier's tests can inspect it). */
export function renderHarnessConfig(port: number, dir: string, options: StartRedisOptions, tlsPort?: number): string {
  const lines = [...HARNESS_DEFAULTS, "", options.configText ?? "", ""];
  lines.push(
    `port ${port}`,
    `bind ${LOCALHOST}`,
    `dir ${dir}`,
    "daemonize no",
    'logfile ""', // stdout, captured by the process harness
    `pidfile ${join(dir, "redis.pid")}`,
  );
  if (options.tls && tlsPort !== undefined) {
    const { certFile, keyFile, caFile } = options.tls;
    lines.push(`tls-port ${tlsPort}`, `tls-cert-file ${certFile}`, `tls-key-file ${keyFile}`, `tls-ca-cert-file ${caFile}`, "tls-auth-clients no");
  }
  if (options.password !== undefined) lines.push(`requirepass ${options.password}`);
  const masterPassword = options.replicaOf?.password ?? options.password;
  if (options.replicaOf) {
    lines.push(`replicaof ${LOCALHOST} ${options.replicaOf.port}`);
    if (masterPassword !== undefined) lines.push(`masterauth ${masterPassword}`);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) lines.push(`${key} ${value}`);
  return `${lines.join("\n")}\n`;
}

function connect(port: number, password: string | undefined): Redis {
  const client = new Redis({
    host: LOCALHOST,
    port,
    password,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: PROBE_CONNECT_TIMEOUT_MS,
  });
  client.on("error", () => {}); // failures surface as rejected commands; no "Unhandled error event"
  return client;
}

async function isReady(port: number, password: string | undefined, replica: boolean): Promise<boolean> {
  const client = connect(port, password);
  try {
    await client.connect();
    if ((await client.ping()) !== "PONG") return false;
    return !replica || (await client.info("replication")).includes("master_link_status:up");
  } finally {
    client.disconnect();
  }
}

/** Starts one redis-server and resolves once it answers PING (and, for a replica, its link is up). */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const name = options.name ?? (options.replicaOf ? "redis-replica" : "redis");
  // A caller-chosen port cannot be re-picked, so a lost port race is not retried then.
  return withStartRetries(async () => {
    const port = options.port ?? (await freePort());
    const tlsPort = options.tls ? await freePort() : undefined;
    const dir = makeTempDir(name);
    const configFile = join(dir, "redis.conf");
    writeFileSync(configFile, renderHarnessConfig(port, dir, options, tlsPort));
    const proc = await startProcess({
      name,
      command: REDIS_SERVER_BIN,
      args: [configFile],
      dir,
      ready: () => isReady(port, options.password, options.replicaOf !== undefined),
      readyTimeoutMs: options.readyTimeoutMs,
    });
    const server: RedisServer = {
      name,
      host: LOCALHOST,
      port,
      url: redisUrl(port, options.password),
      ...(tlsPort !== undefined && { tlsPort, tlsUrl: redisUrl(tlsPort, options.password, "rediss") }),
      password: options.password,
      dir,
      logFile: proc.logFile,
      process: proc,
      client: async () => {
        const client = connect(port, options.password);
        await client.connect();
        return client;
      },
      stop: () => proc.stop(),
    };
    return server;
  }, options.port === undefined ? undefined : 1);
}

/** Waits until the primary itself lists `count` replicas with `state=online` (sync finished). */
export async function waitForOnlineReplicas(primary: RedisServer, count: number, timeoutMs = 10 * 1000): Promise<void> {
  const client = await primary.client();
  try {
    for (const until = Date.now() + timeoutMs; ; ) {
      const online = (await client.info("replication")).match(/^slave\d+:.*state=online/gm)?.length ?? 0;
      if (online >= count) return;
      if (Date.now() > until) throw new Error(`${primary.name}: ${online}/${count} replicas online after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

/** A primary and `replicas` replicas of it, all sharing one password (or none). */
export async function startRedisWithReplicas(
  replicas: number,
  options: Omit<StartRedisOptions, "replicaOf"> = {},
): Promise<{ primary: RedisServer; replicas: RedisServer[]; stop(): Promise<void> }> {
  const primary = await startRedis({ ...options, name: options.name ?? "redis-primary" });
  const started: RedisServer[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      started.push(await startRedis({ ...options, name: `${options.name ?? "redis"}-replica${i}`, replicaOf: primary }));
    }
    await waitForOnlineReplicas(primary, replicas);
  } catch (err) {
    await Promise.all([...started, primary].map((s) => s.stop()));
    throw err;
  }
  return {
    primary,
    replicas: started,
    stop: async () => {
      await Promise.all(started.map((s) => s.stop()));
      await primary.stop();
    },
  };
}
