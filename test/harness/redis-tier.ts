/**
 * The Redis tier's own model, run for real: renders `components/redis` with local addressing (every
 * node on 127.0.0.1, its own port) and starts redis-server on exactly the redis.conf the tier renders,
 * with the secret `auth.conf` include, then runs the tier's channel init script with redis-cli. A wrong
 * `replicaof`, port or auth line shows up here as a cluster that does not form.
 *
 * Layout under one temp dir: `redis-<i>/{conf,secret,data}` per node, `redis-<i>/proc-<n>` for each
 * process run (logs; removed when that process stops), so a node restarts on its own data.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { z } from "zod";
import { BOTPLATFORM_CHANNELS, channelSchema, type Channel } from "../../components/channels.js";
import { renderAuthConf, renderRedisConf, redisUrl } from "../../components/redis/config.js";
import { CONFIG_FILE } from "../../components/redis/docker.js";
import { AUTH_CONF_FILE, PASSWORD_FILE, PRIMARY, redisModel, type RedisModel, type RedisNode } from "../../components/redis/model.js";
import { redisSettings } from "../../components/redis/settings.js";
import { renderInitScript, streamInitSteps } from "../../components/redis/streams.js";
import { localAddressing } from "../../components/targets/addressing.js";
import { parseEndpoints, type Endpoints } from "../../healthchecks/endpoints.js";
import { LOCALHOST, freePorts } from "./ports.js";
import { makeTempDir, startProcess, withStartRetries, type ManagedProcess } from "./process.js";
import { REDIS_SERVER_BIN } from "./redis.js";

const run = promisify(execFile);
const CLIENT_TIMEOUT_MS = 1000; // 1 s: the server is local
const REPLICAS_ONLINE_TIMEOUT_MS = 15 * 1000;
/**
 * Timing only, appended after the rendered config: a diskless full sync starts at once instead of
 * after 5 s of waiting for more replicas. Never an address, a password or a persistence setting.
 */
const FAST_SYNC = "repl-diskless-sync-delay 0\n";

export interface RedisTierOptions {
  /** Stage `redis` settings as a stack file would say them; defaults apply. */
  settings?: z.input<typeof redisSettings>;
  /** @default BotPlatform's core channels */
  channels?: readonly z.input<typeof channelSchema>[];
  /** @default a fresh random password when auth is on */
  password?: string;
  /** Alters the model before it is rendered: a deliberate bug (e.g. a wrong `replicaOf`) the tests must catch. */
  tamper?: (model: RedisModel) => RedisModel;
  /** Per node start timeout. */
  readyTimeoutMs?: number;
}

export interface RedisTierNode {
  readonly node: RedisNode;
  readonly configFile: string;
  readonly process: ManagedProcess;
  /** The redis.conf text the node runs (the tier's rendering plus FAST_SYNC). */
  readonly configText: string;
}

export interface RedisTierCluster {
  readonly model: RedisModel;
  readonly nodes: readonly RedisTierNode[];
  readonly password?: string;
  /** The endpoints contract's URL for the primary. */
  readonly url: string;
  readonly endpoints: Endpoints;
  readonly initScript: string;
  /** Runs the tier's init script (`sh`, redis-cli) against the primary. */
  runInit(): Promise<{ stdout: string; stderr: string }>;
  /** A client of node i (no retries). The caller disconnects it. */
  client(node?: number): Promise<Redis>;
  /** SIGKILL: a crash. */
  kill(node: number): Promise<void>;
  /** SIGTERM (Redis fsyncs its AOF), keeps the data dir. */
  stopNode(node: number): Promise<void>;
  /** Starts node i again on its config and data. */
  startNode(node: number): Promise<void>;
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>;
}

export function channelsOf(raw: readonly z.input<typeof channelSchema>[]): Channel[] {
  return raw.map((c) => channelSchema.parse(c));
}

function newClient(port: number, password: string | undefined): Redis {
  const client = new Redis({ host: LOCALHOST, port, password, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CLIENT_TIMEOUT_MS });
  client.on("error", () => {}); // failures surface as rejected commands
  return client;
}

async function isReady(node: RedisNode, password: string | undefined): Promise<boolean> {
  const client = newClient(node.port, password);
  try {
    await client.connect();
    if ((await client.ping()) !== "PONG") return false;
    return node.role === "primary" || (await client.info("replication")).includes("master_link_status:up");
  } finally {
    client.disconnect();
  }
}

async function waitForReplicas(port: number, password: string | undefined, count: number): Promise<void> {
  const client = newClient(port, password);
  try {
    await client.connect();
    for (const until = Date.now() + REPLICAS_ONLINE_TIMEOUT_MS; ; ) {
      const online = (await client.info("replication")).match(/^slave\d+:.*state=online/gm)?.length ?? 0;
      if (online >= count) return;
      if (Date.now() > until) throw new Error(`primary: ${online}/${count} replicas online after ${REPLICAS_ONLINE_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

function endpointsOf(model: RedisModel, url: string, channels: readonly Channel[]): Endpoints {
  return parseEndpoints({
    version: 1,
    stage: "harness",
    redis: { url, replicas: model.replicas },
    channels: channels.map((c) => ({ name: c.name, durable: c.durable, partitions: c.partitions, consumerGroups: c.consumerGroups, retention: c.retention })),
  });
}

async function startCluster(options: RedisTierOptions): Promise<RedisTierCluster> {
  const settings = redisSettings.parse(options.settings ?? {});
  const channels = channelsOf(options.channels ?? BOTPLATFORM_CHANNELS);
  const password = settings.auth.enabled ? (options.password ?? `pw-${Math.random().toString(36).slice(2)}`) : undefined;
  const ports = await freePorts(settings.replicas + 1);
  const root = makeTempDir("redis-tier");
  const nodeDir = (i: number) => join(root, `redis-${i}`);
  const addressing = localAddressing({ tier: "redis", ports: { client: ports } });
  const rendered = redisModel({
    settings,
    addressing,
    channels,
    paths: (i) => ({ dataDir: join(nodeDir(i), "data"), configDir: join(nodeDir(i), "conf"), secretDir: join(nodeDir(i), "secret") }),
  });
  const model = options.tamper?.(rendered) ?? rendered;

  const files = model.nodes.map((node) => {
    for (const dir of Object.values(node.paths)) mkdirSync(dir, { recursive: true });
    const configText = renderRedisConf(model, node) + FAST_SYNC;
    const configFile = join(node.paths.configDir, CONFIG_FILE);
    writeFileSync(configFile, configText);
    if (password !== undefined) {
      writeFileSync(join(node.paths.secretDir, AUTH_CONF_FILE), renderAuthConf(password), { mode: 0o600 });
      writeFileSync(join(node.paths.secretDir, PASSWORD_FILE), password, { mode: 0o600 });
    }
    return { node, configFile, configText };
  });

  const processes: (ManagedProcess | undefined)[] = model.nodes.map(() => undefined);
  let runs = 0;
  const startNode = async (i: number): Promise<void> => {
    const { node, configFile } = files[i]!;
    const dir = join(nodeDir(i), `proc-${runs++}`);
    mkdirSync(dir);
    processes[i] = await startProcess({ name: node.name, command: REDIS_SERVER_BIN, args: [configFile], dir, ready: () => isReady(node, password), readyTimeoutMs: options.readyTimeoutMs });
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p?.stop()));
    rmSync(root, { recursive: true, force: true });
  };

  const primary = model.nodes[PRIMARY]!;
  const initScript = renderInitScript({
    primary: primary.peer,
    passwordFile: password === undefined ? undefined : join(primary.paths.secretDir, PASSWORD_FILE),
    steps: streamInitSteps(model.streams),
  });
  writeFileSync(join(root, "init.sh"), initScript);
  const url = redisUrl(model.primaryClient, password);

  try {
    await startNode(PRIMARY);
    await Promise.all(model.nodes.slice(1).map((node) => startNode(node.index)));
    if (model.replicas > 0) await waitForReplicas(primary.port, password, model.replicas);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const processOf = (i: number): ManagedProcess => {
    const proc = processes[i];
    if (proc === undefined) throw new Error(`redis-${i} was never started`);
    return proc;
  };
  return {
    model,
    get nodes() {
      return files.map((f, i) => ({ ...f, process: processOf(i) }));
    },
    password,
    url,
    endpoints: endpointsOf(model, url, channels),
    initScript,
    runInit: () => run("sh", [join(root, "init.sh")], { timeout: 90 * 1000 }),
    client: async (node = PRIMARY) => {
      const client = newClient(model.nodes[node]!.port, password);
      await client.connect();
      return client;
    },
    kill: async (i) => {
      const proc = processOf(i);
      proc.child.kill("SIGKILL");
      await proc.stop();
    },
    stopNode: (i) => processOf(i).stop(),
    startNode,
    stop: stopAll,
  };
}

/** Starts the tier's cluster (retrying with fresh ports if another process took one meanwhile). */
export function startRedisTier(options: RedisTierOptions = {}): Promise<RedisTierCluster> {
  return withStartRetries(() => startCluster(options), options.tamper ? 1 : 3);
}
