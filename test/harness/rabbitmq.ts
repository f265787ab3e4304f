/**
 * Real RabbitMQ clusters on 127.0.0.1, started from the files the RabbitMQ tier renders: the model is
 * built with `localAddressing` (distinct AMQP, management and distribution ports per node, one epmd
 * per cluster on its own port) and classic-config discovery, so node names, the node list, listeners,
 * limits, plugins and definitions are exactly what `components/rabbitmq` produces. A wrong node list or
 * listener shows up here as a cluster that does not form.
 *
 * Every node is a `rabbitmq-server` (Debian's 3.10 here; see scripts/install/rabbitmq.sh) run directly
 * (`RUNNING_UNDER_SYSTEMD` makes the script exec the VM, so the process we signal is the broker). Node
 * data lives under the cluster's temp dir, so a stopped node can start again with its data.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Channel } from "../../components/channels.js";
import { renderDefinitionsFor, renderEnabledPlugins, renderRabbitmqConf } from "../../components/rabbitmq/config.js";
import { rabbitmqModel, type RabbitmqModel } from "../../components/rabbitmq/model.js";
import { rabbitmqSettings, type RabbitmqSettings } from "../../components/rabbitmq/settings.js";
import { VHOST } from "../../components/rabbitmq/topology.js";
import { localAddressing } from "../../components/targets/addressing.js";
import type { RabbitmqEndpoint } from "../../healthchecks/endpoints.js";
import { LOCALHOST, freePorts } from "./ports.js";
import { makeTempDir, startProcess, type ManagedProcess } from "./process.js";

export const RABBITMQ_SERVER_BIN = process.env.RABBITMQ_SERVER_BIN ?? "/usr/lib/rabbitmq/bin/rabbitmq-server";
export const EPMD_BIN = process.env.EPMD_BIN ?? "epmd";
/** A cold node boots in ~10 s on an idle 2-core box; leave room for a busy one. */
export const NODE_READY_TIMEOUT_MS = 90 * 1000;
export const CLUSTER_FORM_TIMEOUT_MS = 60 * 1000;
const HTTP_TIMEOUT_MS = 2000;
const POLL_MS = 250;

export interface StartRabbitmqClusterOptions {
  /** Stack name (salts the password hash, names the config). @default "harness" */
  stack?: string;
  /** Tier settings as a stack file gives them (defaults applied here). @default { nodes: 3 } */
  settings?: Partial<RabbitmqSettings> | RabbitmqSettings;
  channels?: readonly Channel[];
  /** @default a random password */
  password?: string;
  /** Per-node cookie override, e.g. to prove a node with the wrong cookie cannot join. */
  cookieFor?: (node: number, clusterCookie: string) => string;
  /** @default CLUSTER_FORM_TIMEOUT_MS */
  formTimeoutMs?: number;
}

export interface RabbitmqHarnessNode {
  readonly index: number;
  readonly erlangNode: string;
  readonly amqpPort: number;
  readonly managementPort: number;
  readonly running: boolean;
  /** Starts the node (again, with its data). */
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown, as `docker stop` does. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  logs(): string;
}

export interface RabbitmqCluster {
  readonly model: RabbitmqModel;
  readonly password: string;
  readonly dir: string;
  readonly nodes: RabbitmqHarnessNode[];
  /** The endpoints block for this cluster, as the platform exports it. */
  readonly endpoint: RabbitmqEndpoint & { addresses: string[]; managementUrls: string[] };
  /** GET on a node's management API as the client user. */
  api<T>(path: string, node?: number): Promise<T>;
  /** Polls until `count` nodes are listed and running (by node `via`). */
  waitForRunning(count: number, timeoutMs?: number, via?: number): Promise<void>;
  stop(): Promise<void>;
}

const keepDirs = (): boolean => process.env.BP_KEEP_HARNESS_DIRS === "1";

// Node data lives outside the per-process dirs process.ts cleans up: remove it too if a test never stops its cluster.
const clusterDirs = new Set<string>();
process.once("exit", () => {
  if (!keepDirs()) for (const dir of clusterDirs) rmSync(dir, { recursive: true, force: true });
});

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: LOCALHOST, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.setTimeout(HTTP_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function getJson<T>(port: number, path: string, user: string, password: string): Promise<T> {
  const response = await fetch(`http://${LOCALHOST}:${port}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`GET ${path} on :${port}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Node environment: only what this node needs, nothing from a system-wide RabbitMQ install. */
function nodeEnvironment(model: RabbitmqModel, index: number, nodeDir: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("RABBITMQ_") && !key.startsWith("ERL_")));
  return {
    ...inherited,
    HOME: join(nodeDir, "home"),
    RABBITMQ_CONF_ENV_FILE: join(nodeDir, "rabbitmq-env.conf"), // absent on purpose: no /etc/rabbitmq defaults
    RABBITMQ_CONFIG_FILE: join(nodeDir, "rabbitmq.conf"),
    RABBITMQ_CONFIG_FILES: join(nodeDir, "conf.d"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(nodeDir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(nodeDir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(nodeDir, "mnesia"),
    RABBITMQ_LOG_BASE: join(nodeDir, "log"),
    RABBITMQ_PID_FILE: join(nodeDir, "rabbitmq.pid"),
    RUNNING_UNDER_SYSTEMD: "true",
    // Erlang distribution on loopback only; epmd is ours (started per cluster) and loopback-only too.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    ERL_EPMD_ADDRESS: LOCALHOST,
    ...model.nodes[index]?.env,
  };
}

function writeNodeFiles(model: RabbitmqModel, index: number, nodeDir: string, cookie: string): void {
  for (const sub of ["home", "conf.d", "mnesia", "log"]) mkdirSync(join(nodeDir, sub), { recursive: true });
  writeFileSync(join(nodeDir, "rabbitmq.conf"), renderRabbitmqConf(model, index));
  writeFileSync(join(nodeDir, "enabled_plugins"), renderEnabledPlugins(model));
  // Erlang refuses a cookie file that group or others can read.
  writeFileSync(join(nodeDir, "home", ".erlang.cookie"), cookie, { mode: 0o600 });
}

export async function startRabbitmqCluster(options: StartRabbitmqClusterOptions = {}): Promise<RabbitmqCluster> {
  const settings = rabbitmqSettings.parse({ nodes: 3, ...options.settings, image: undefined });
  const count = settings.nodes;
  const ports = await freePorts(3 * count + 1);
  const [epmdPort] = ports.splice(0, 1) as [number];
  const amqp = ports.slice(0, count);
  const management = ports.slice(count, 2 * count);
  const dist = ports.slice(2 * count, 3 * count);
  const dir = makeTempDir("rabbitmq-cluster");
  clusterDirs.add(dir);
  const stack = options.stack ?? "harness";
  const password = options.password ?? randomBytes(12).toString("hex");
  const cookie = randomBytes(16).toString("hex").toUpperCase();
  const model = rabbitmqModel({
    stack,
    settings,
    channels: options.channels ?? [],
    addressing: localAddressing({ tier: "rabbitmq", ports: { amqp, management, dist, epmd: amqp.map(() => epmdPort) } }),
    discovery: { kind: "classic" },
    definitionsPath: join(dir, "definitions.json"),
  });
  writeFileSync(join(dir, "definitions.json"), renderDefinitionsFor(model, password), { mode: 0o600 });
  const user = model.user.name;
  const api = <T>(path: string, node = 0): Promise<T> => getJson<T>(management[node] as number, path, user, password);

  const epmd = await startProcess({
    name: "rabbitmq-epmd",
    command: EPMD_BIN,
    args: ["-port", String(epmdPort), "-address", LOCALHOST],
    ready: () => tcpOpen(epmdPort),
  });

  const nodes = model.nodes.map((node): RabbitmqHarnessNode & { proc?: ManagedProcess } => {
    const nodeDir = join(dir, `node-${node.index}`);
    writeNodeFiles(model, node.index, nodeDir, options.cookieFor?.(node.index, cookie) ?? cookie);
    let proc: ManagedProcess | undefined;
    let lastLogs = "";
    const halt = async (signal: "SIGTERM" | "SIGKILL"): Promise<void> => {
      if (proc === undefined) return;
      lastLogs = proc.logs();
      if (signal === "SIGKILL") proc.child.kill("SIGKILL");
      await proc.stop();
      proc = undefined;
    };
    return {
      index: node.index,
      erlangNode: node.erlangNode,
      amqpPort: node.ports.amqp,
      managementPort: node.ports.management,
      get running() {
        return proc !== undefined && !proc.exited;
      },
      async start() {
        if (proc !== undefined && !proc.exited) return;
        proc = await startProcess({
          name: `rabbitmq-${node.index}`,
          command: RABBITMQ_SERVER_BIN,
          env: nodeEnvironment(model, node.index, nodeDir),
          // Up when its management API answers as our user: the definitions were imported.
          ready: async () => (await getJson<{ node: string }>(node.ports.management, "/api/overview", user, password)).node === node.erlangNode,
          readyTimeoutMs: NODE_READY_TIMEOUT_MS,
          pollIntervalMs: POLL_MS,
        });
      },
      stop: () => halt("SIGTERM"),
      kill: () => halt("SIGKILL"),
      logs: () => proc?.logs() ?? lastLogs,
    };
  });

  const waitForRunning = async (expected: number, timeoutMs = options.formTimeoutMs ?? CLUSTER_FORM_TIMEOUT_MS, via = 0): Promise<void> => {
    let seen = "nothing yet";
    for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, POLL_MS))) {
      try {
        const listed = await api<{ name: string; running: boolean }[]>("/api/nodes?columns=name,running", via);
        const running = listed.filter((n) => n.running).map((n) => n.name);
        seen = `${running.length}/${listed.length} running: ${running.join(", ")}`;
        if (listed.length === expected && running.length === expected) return;
      } catch (err) {
        seen = err instanceof Error ? err.message : String(err);
      }
    }
    throw new Error(`RabbitMQ cluster did not reach ${expected} running nodes within ${timeoutMs} ms (${seen})`);
  };

  /** The node completing the cluster imports queues and bindings just after it boots: wait for them. */
  const waitForTopology = async (timeoutMs = options.formTimeoutMs ?? CLUSTER_FORM_TIMEOUT_MS): Promise<void> => {
    const expected = model.topology.queues.map((q) => q.name);
    let missing = expected;
    for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, POLL_MS))) {
      const present = new Set((await api<{ name: string }[]>(`/api/queues/${VHOST}?columns=name`).catch(() => [])).map((q) => q.name));
      missing = expected.filter((name) => !present.has(name));
      if (missing.length === 0) return;
    }
    throw new Error(`definitions not imported within ${timeoutMs} ms: queues ${missing.join(", ")} missing`);
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.kill()));
    await epmd.stop();
    if (!keepDirs()) rmSync(dir, { recursive: true, force: true });
    clusterDirs.delete(dir);
  };

  try {
    // One node after the other, as the Docker and Kubernetes renderings start them: classic config
    // has no lock, and the node completing the cluster must see every other node running when it
    // imports the quorum queues.
    for (const node of nodes) await node.start();
    await waitForRunning(count);
    await waitForTopology();
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.erlangNode}\n${n.logs().split("\n").slice(-15).join("\n")}`).join("\n");
    await stopAll();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`, { cause: err });
  }

  const url = (port: number) => `amqp://${user}:${encodeURIComponent(password)}@${LOCALHOST}:${port}/${VHOST}`;
  return {
    model,
    password,
    dir,
    nodes,
    endpoint: {
      url: url(amqp[0] as number),
      managementUrl: `http://${LOCALHOST}:${management[0]}`,
      clusterSize: count,
      addresses: amqp.map((port) => `${LOCALHOST}:${port}`),
      managementUrls: management.map((port) => `http://${LOCALHOST}:${port}`),
    },
    api,
    waitForRunning,
    stop: stopAll,
  };
}
