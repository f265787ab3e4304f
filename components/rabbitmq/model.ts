/**
 * The RabbitMQ cluster model (PURE): stage settings + channels + addressing -> nodes with their Erlang
 * node names, ports and environment, how they find each other on first boot, limits, plugins, the
 * BotPlatform vhost/user/topology and health checks. Docker, Kubernetes and the local test harness all
 * render this same model; only the addressing and the discovery kind differ.
 */
import type { Channel } from "../channels.js";
import { bytesOf } from "../settings-common.js";
import type { Addressing, HostPort } from "../targets/addressing.js";
import type { HealthCheck } from "../targets/health.js";
import { IMAGE_CONTRACTS } from "../targets/image-contract.js";
import type { RabbitmqSettings } from "./settings.js";
import { channelTopology, VHOST, type Topology } from "./topology.js";

/** Container ports of the official image. */
export const RABBITMQ_PORTS = { amqp: 5672, management: 15672, dist: 25672, epmd: 4369 } as const;
export type RabbitmqService = keyof typeof RABBITMQ_PORTS;
/** uid/gid of `rabbitmq` in the official image. */
export const RABBITMQ_UID = IMAGE_CONTRACTS.rabbitmq.user.uid;
export const DATA_DIR = IMAGE_CONTRACTS.rabbitmq.dataDir;
export const CONFIG_DIR = "/etc/rabbitmq";
/** Cookie and definitions (password hashes) live apart from the plain config: a Secret / secret uploads. */
export const SECRET_DIR = "/etc/rabbitmq-secret";
export const COOKIE_FILE = "erlang-cookie";
export const DEFINITIONS_FILE = "definitions.json";
/** The user clients and the smoke probe authenticate as; `monitoring` lets it read the management API. */
export const CLIENT_USER = "bus";
export const CLIENT_USER_TAGS = ["monitoring"] as const;
/** RabbitMQ has no anonymous access: with auth off the user keeps this well-known password. */
export const AUTH_OFF_PASSWORD = "bus";
/** Kubernetes pre-stop: wait for quorum queues to keep a majority without this node, then drain. */
export const PRESTOP_AWAIT_TIMEOUT_S = 50 * 60; // 50 min: a member catching up may take long
export const PRESTOP_DRAIN_TIMEOUT_S = 5 * 60; // 5 min
export const TERMINATION_GRACE_S = PRESTOP_AWAIT_TIMEOUT_S + PRESTOP_DRAIN_TIMEOUT_S + 5 * 60;

export type Discovery = { kind: "classic" } | { kind: "kubernetes"; headlessService: string };

export interface RabbitmqModelInput {
  stack: string;
  settings: RabbitmqSettings;
  channels: readonly Channel[];
  addressing: Addressing;
  discovery: Discovery;
  /** Where nodes read the definitions file. @default `${SECRET_DIR}/${DEFINITIONS_FILE}` */
  definitionsPath?: string;
}

export interface RabbitmqNode {
  index: number;
  /** The Erlang node name, e.g. `rabbit@bp-ci-rabbitmq-0`; peers and CLI tools address the node by it. */
  erlangNode: string;
  /** The address the listeners bind to. */
  bindHost: string;
  ports: Record<RabbitmqService, number>;
  /** Where this target's clients reach the node. */
  client: { amqp: HostPort; management: HostPort };
  /** What the node process needs in its environment (names, ports); never a secret. */
  env: Record<string, string>;
}

export type ClusterFormation =
  | { kind: "classic"; nodes: string[] }
  | {
      kind: "kubernetes";
      headlessService: string;
      /** Appended to a pod's hostname to make its node host: `.<headless>.<ns>.svc.cluster.local`. */
      hostnameSuffix: string;
      /** `rabbit@$(POD_NAME)<suffix>`: one StatefulSet template names every pod's node. */
      nodeNameTemplate: string;
    };

export interface RabbitmqModel {
  stack: string;
  version: string;
  image: string;
  clusterSize: number;
  /** Erlang long names: node hosts are FQDNs or IP addresses. */
  longNames: boolean;
  nodes: RabbitmqNode[];
  formation: ClusterFormation;
  plugins: string[];
  limits: { memoryHighWatermark: number; totalMemoryBytes: number; diskFreeLimitBytes: number };
  definitionsPath: string;
  vhost: string;
  user: { name: string; tags: readonly string[]; authEnabled: boolean };
  topology: Topology;
  health: { docker: HealthCheck; startup: HealthCheck; readiness: HealthCheck; liveness: HealthCheck };
  /** Entry command: installs the cookie with the mode Erlang demands (0600), then starts the broker. */
  command: string[];
  /** Kubernetes pre-stop hook; absent for one node (nothing to keep a quorum with). */
  preStop?: string[];
  terminationGracePeriodSeconds: number;
}

const SERVICES = Object.keys(RABBITMQ_PORTS) as RabbitmqService[];

export function defaultImage(version: string): string {
  return `rabbitmq:${version}-management`;
}

/**
 * `rabbit@<host>` when every node has its own host (containers, pods); `<nodeName>@<host>` when nodes
 * share one (the harness runs all on 127.0.0.1): the name part must then tell them apart.
 */
function erlangNodeNames(addressing: Addressing, count: number): string[] {
  const hosts = Array.from({ length: count }, (_, i) => addressing.peerHost(i));
  const distinct = new Set(hosts).size === hosts.length;
  return hosts.map((host, i) => `${distinct ? "rabbit" : addressing.nodeName(i)}@${host}`);
}

function formation(input: RabbitmqModelInput, names: string[]): ClusterFormation {
  if (input.discovery.kind === "classic") return { kind: "classic", nodes: names };
  const { addressing } = input;
  const pod = addressing.nodeName(0);
  const host = addressing.peerHost(0);
  if (!host.startsWith(`${pod}.`)) throw new Error(`kubernetes discovery needs pod hosts under a domain: \`${host}\` does not start with \`${pod}.\``);
  const hostnameSuffix = host.slice(pod.length);
  return { kind: "kubernetes", headlessService: input.discovery.headlessService, hostnameSuffix, nodeNameTemplate: `rabbit@$(POD_NAME)${hostnameSuffix}` };
}

function nodeEnv(erlangNode: string, longNames: boolean, ports: Record<RabbitmqService, number>): Record<string, string> {
  const env: Record<string, string> = {
    RABBITMQ_NODENAME: erlangNode,
    RABBITMQ_USE_LONGNAME: String(longNames),
    RABBITMQ_DIST_PORT: String(ports.dist),
  };
  // Only the harness moves epmd off its well-known port (one epmd per test cluster).
  if (ports.epmd !== RABBITMQ_PORTS.epmd) env.ERL_EPMD_PORT = String(ports.epmd);
  return env;
}

export function rabbitmqModel(input: RabbitmqModelInput): RabbitmqModel {
  const { settings, addressing } = input;
  const count = settings.nodes;
  const names = erlangNodeNames(addressing, count);
  const longNames = names.some((name) => (name.split("@")[1] ?? "").includes("."));
  const nodes = names.map((erlangNode, index): RabbitmqNode => {
    const ports = Object.fromEntries(SERVICES.map((s) => [s, addressing.port(index, s)])) as Record<RabbitmqService, number>;
    return {
      index,
      erlangNode,
      bindHost: addressing.bindHost,
      ports,
      client: { amqp: addressing.client(index, "amqp"), management: addressing.client(index, "management") },
      env: nodeEnv(erlangNode, longNames, ports),
    };
  });
  const clustered = count > 1;
  const formationModel = formation(input, names);
  return {
    stack: input.stack,
    version: settings.version,
    image: settings.image ?? defaultImage(settings.version),
    clusterSize: count,
    longNames,
    nodes,
    formation: formationModel,
    plugins: formationModel.kind === "kubernetes" ? ["rabbitmq_management", "rabbitmq_peer_discovery_k8s"] : ["rabbitmq_management"],
    limits: {
      memoryHighWatermark: settings.memoryHighWatermark,
      // The watermark is a share of the container's memory, not of the host's.
      totalMemoryBytes: bytesOf(settings.resources.memory),
      diskFreeLimitBytes: bytesOf(settings.diskFreeLimit),
    },
    definitionsPath: input.definitionsPath ?? `${SECRET_DIR}/${DEFINITIONS_FILE}`,
    vhost: VHOST,
    user: { name: CLIENT_USER, tags: CLIENT_USER_TAGS, authEnabled: settings.auth.enabled },
    topology: channelTopology(input.channels, settings.deliveryLimit),
    health: {
      // `check_running` fails on a node paused in a minority: Docker marks it unhealthy.
      docker: { kind: "exec", command: ["rabbitmq-diagnostics", "-q", "check_running"] },
      // The VM answering is enough to keep a booting or paused node alive (it may wait for peers).
      startup: { kind: "exec", command: ["rabbitmq-diagnostics", "-q", "ping"] },
      liveness: { kind: "exec", command: ["rabbitmq-diagnostics", "-q", "ping"] },
      // A paused node closes its listeners, so it leaves the client Service at once.
      readiness: { kind: "tcp", port: RABBITMQ_PORTS.amqp },
    },
    command: ["sh", "-c", `install -m 0600 ${SECRET_DIR}/${COOKIE_FILE} "$HOME/.erlang.cookie" && exec docker-entrypoint.sh rabbitmq-server`],
    preStop: clustered
      ? ["sh", "-c", `rabbitmq-upgrade await_online_quorum_plus_one -t ${PRESTOP_AWAIT_TIMEOUT_S} && rabbitmq-upgrade drain -t ${PRESTOP_DRAIN_TIMEOUT_S}`]
      : undefined,
    terminationGracePeriodSeconds: clustered ? TERMINATION_GRACE_S : 60,
  };
}
