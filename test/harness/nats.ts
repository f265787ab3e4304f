/**
 * Real nats-server clusters on 127.0.0.1 for tests, started from the NATS tier's OWN rendered configs:
 * the stage settings go through `natsModel` with `localAddressing`, `renderNatsConf` and
 * `renderNatsSecretConf` write every node's files, and nats-server runs them unchanged. A wrong route,
 * listener, credential or quorum in the model is a cluster that does not form here.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection, type StreamConfig, type ConsumerConfig } from "nats";
import { channelSchema, type Channel } from "../../components/channels.js";
import { renderNatsConf, renderNatsSecretConf, type NatsSecrets } from "../../components/nats/config.js";
import { natsEndpointBlock, type NatsEndpoint } from "../../components/nats/endpoint.js";
import { natsModel, type NatsModel } from "../../components/nats/model.js";
import { natsSettings, type NatsSettings } from "../../components/nats/settings.js";
import type { ChannelStream } from "../../components/nats/streams.js";
import { localAddressing } from "../../components/targets/addressing.js";
import { LOCALHOST, freePorts } from "./ports.js";
import { makeTempDir, startProcess, withStartRetries, type ManagedProcess } from "./process.js";

const REPO_ROOT = resolve(__dirname, "..", "..");
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? join(REPO_ROOT, ".cache", "bin", "nats-server");
export const NATS_CLI_BIN = process.env.NATS_CLI_BIN ?? join(REPO_ROOT, ".cache", "bin", "nats");
/** Time for routes to connect and JetStream to elect a meta leader on a busy 2-core box. */
export const CLUSTER_FORM_TIMEOUT_MS = 30 * 1000; // 30 s
const HTTP_TIMEOUT_MS = 1000; // 1 s: the server is local; slower means "not yet"
const SERVICES = ["client", "cluster", "monitor"] as const;

export interface StartNatsClusterOptions {
  /** Raw `nats` stage settings (as in a stack file); `nodes` defaults to 3 here. */
  settings?: Record<string, unknown>;
  /** @default BotPlatform-like channels with consumer groups */
  channels?: readonly Channel[];
  /** @default "it" */
  stack?: string;
  /** Secrets a node's include is rendered with (fault injection: one node with a wrong route password). */
  secretsFor?: (node: number, secrets: NatsSecrets) => NatsSecrets;
  /** @default CLUSTER_FORM_TIMEOUT_MS */
  formTimeoutMs?: number;
  /** Start attempts (each with fresh ports). @default 3 */
  attempts?: number;
}

export interface NatsClusterNode {
  index: number;
  name: string;
  clientUrl: string;
  monitorUrl: string;
  process: ManagedProcess;
  /** SIGTERM (SIGKILL after the grace period); the node is gone until the cluster is stopped. */
  stop(): Promise<void>;
}

export interface NatsCluster {
  model: NatsModel;
  settings: NatsSettings;
  channels: readonly Channel[];
  nodes: NatsClusterNode[];
  secrets: NatsSecrets;
  /** The endpoints contract's `nats` block for this cluster. */
  endpoint(): NatsEndpoint;
  /** A client as the `bus` user (no reconnect). The caller closes it. */
  connect(servers?: string[]): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export const TEST_CHANNELS: Channel[] = [
  { name: "market.ticks", durable: false, retention: { maxAge: "1h" } },
  { name: "orders.placed", consumerGroups: ["execution-engine", "risk-engine"], retention: { maxAge: "1d", maxMessages: 10_000 } },
  { name: "risk.alerts", consumerGroups: ["notifier"], retention: { maxAge: "30s", maxBytes: "8Mi" } },
].map((c) => channelSchema.parse(c));

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function monitorOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  await response.body?.cancel();
  return response.ok;
}

/** Every node routes to every other one and JetStream has a meta leader that all nodes agree on. */
export async function clusterFormed(monitorUrls: readonly string[]): Promise<boolean> {
  const expectedPeers = monitorUrls.length - 1;
  const leaders = new Set<string>();
  for (const url of monitorUrls) {
    const routez = (await getJson(`${url}/routez`)) as { routes?: { remote_name?: string }[] };
    const peers = new Set((routez.routes ?? []).map((r) => r.remote_name));
    if (peers.size < expectedPeers) return false;
    const jsz = (await getJson(`${url}/jsz`)) as { meta_cluster?: { leader?: string } };
    if (expectedPeers > 0 && !jsz.meta_cluster?.leader) return false;
    leaders.add(jsz.meta_cluster?.leader ?? "");
    if (!(await monitorOk(`${url}/healthz`))) return false;
  }
  return leaders.size === 1;
}

export async function waitForCluster(monitorUrls: readonly string[], timeoutMs = CLUSTER_FORM_TIMEOUT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await clusterFormed(monitorUrls).catch(() => false)) return;
    if (Date.now() > until) throw new Error(`NATS cluster (${monitorUrls.join(", ")}) did not form within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** The model's JSON as nats.js types it (the JSON is identical; only the enum typing differs). */
const asStreamConfig = (stream: ChannelStream["stream"]): Partial<StreamConfig> => stream as unknown as Partial<StreamConfig>;
const asConsumerConfig = (consumer: ChannelStream["consumers"][number]): Partial<ConsumerConfig> => consumer as unknown as Partial<ConsumerConfig>;

/** How long a freshly created replicated stream may take to elect its leader. */
const STREAM_LEADER_TIMEOUT_MS = 10 * 1000; // 10 s

/**
 * Creates the model's streams and consumers through the JetStream API (add, or update when present),
 * and returns once every stream has a leader (until then a publish finds no responder).
 */
export async function applyStreams(nc: NatsConnection, streams: readonly ChannelStream[]): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const { stream, consumers } of streams) {
    const exists = await jsm.streams.info(stream.name).then(() => true, () => false);
    if (exists) await jsm.streams.update(stream.name, asStreamConfig(stream));
    else await jsm.streams.add(asStreamConfig(stream));
    for (const consumer of consumers) {
      const present = await jsm.consumers.info(stream.name, consumer.durable_name).then(() => true, () => false);
      if (present) await jsm.consumers.update(stream.name, consumer.durable_name, asConsumerConfig(consumer));
      else await jsm.consumers.add(stream.name, asConsumerConfig(consumer));
    }
  }
  const until = Date.now() + STREAM_LEADER_TIMEOUT_MS;
  for (const { stream } of streams) {
    while (!(await jsm.streams.info(stream.name)).cluster?.leader) {
      if (Date.now() > until) throw new Error(`stream ${stream.name} has no leader after ${STREAM_LEADER_TIMEOUT_MS} ms`);
      await sleep(50);
    }
  }
}

export async function startNatsCluster(options: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const settings = natsSettings.parse({ nodes: 3, ...options.settings });
  const channels = options.channels ?? TEST_CHANNELS;
  // Fixed test secrets with characters nats.conf must escape: a quoting bug breaks the cluster.
  const secrets: NatsSecrets = { busPassword: 'bus-"pw"\\#1 $x', routePassword: "route-Pw0rd-42" };
  return withStartRetries(async () => {
    const ports = await freePorts(settings.nodes * SERVICES.length);
    const portsOf = (s: number) => ports.slice(s * settings.nodes, (s + 1) * settings.nodes);
    const addressing = localAddressing({ tier: "nats", ports: Object.fromEntries(SERVICES.map((service, s) => [service, portsOf(s)])) });
    const dirs = Array.from({ length: settings.nodes }, (_, i) => makeTempDir(`nats-${i}`));
    const model = natsModel({
      stack: options.stack ?? "it",
      settings,
      addressing,
      channels,
      layout: {
        configFile: (i) => join(dirs[i]!, "nats.conf"),
        secretFile: (i) => join(dirs[i]!, "secret", "nats-secret.conf"),
        storeDir: (i) => join(dirs[i]!, "data"),
      },
    });
    for (const node of model.nodes) {
      writeFileSync(node.configFile, renderNatsConf(model, node));
      const secret = renderNatsSecretConf(model, node, options.secretsFor?.(node.index, secrets) ?? secrets);
      if (secret !== undefined) {
        mkdirSync(join(dirs[node.index]!, "secret"), { mode: 0o700 });
        writeFileSync(node.secretFile, secret, { mode: 0o600 });
      }
    }
    const monitorUrl = (i: number) => `http://${LOCALHOST}:${model.nodes[i]!.clientMonitor.port}`;
    const started: ManagedProcess[] = [];
    try {
      // In parallel: a node waits for its peers' routes, not for their health.
      const processes = await Promise.all(
        model.nodes.map((node) =>
          startProcess({
            name: node.name,
            command: NATS_SERVER_BIN,
            args: ["--config", node.configFile],
            dir: dirs[node.index],
            ready: () => monitorOk(`${monitorUrl(node.index)}/healthz?js-enabled-only=true`),
          }).then((proc) => (started.push(proc), proc)),
        ),
      );
      await waitForCluster(model.nodes.map((n) => monitorUrl(n.index)), options.formTimeoutMs);
      return clusterHandle(model, settings, channels, secrets, processes, monitorUrl);
    } catch (err) {
      await Promise.all(started.map((p) => p.stop()));
      throw err;
    }
  }, options.attempts);
}

function clusterHandle(
  model: NatsModel,
  settings: NatsSettings,
  channels: readonly Channel[],
  secrets: NatsSecrets,
  processes: ManagedProcess[],
  monitorUrl: (i: number) => string,
): NatsCluster {
  const nodes = model.nodes.map((node, i) => ({
    index: i,
    name: node.name,
    clientUrl: `nats://${node.client.host}:${node.client.port}`,
    monitorUrl: monitorUrl(i),
    process: processes[i]!,
    stop: () => processes[i]!.stop(),
  }));
  const auth = model.auth ? { user: model.auth.user, password: secrets.busPassword } : {};
  return {
    model,
    settings,
    channels,
    nodes,
    secrets,
    // The tier's own endpoints block, as the platform exports it, with the password filled in.
    endpoint: () => ({ ...natsEndpointBlock(model), ...auth }),
    connect: (servers) => connect({ servers: servers ?? nodes.map((n) => n.clientUrl), ...(model.auth && { user: model.auth.user, pass: secrets.busPassword }), reconnect: false, timeout: 2000 }),
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
