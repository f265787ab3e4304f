/**
 * The NATS JetStream tier as plain data: nodes with their listeners, routes and advertised client URL,
 * JetStream limits, the `bus` user's permissions, health checks and the channels' JetStream objects.
 * PURE: stage settings + addressing in, data out. Docker, Kubernetes and the test harness render the
 * same model; only the `Addressing` and the file layout differ.
 */
import type { Channel } from "../channels.js";
import { bytesOf, secondsOf } from "../settings-common.js";
import type { Addressing, HostPort } from "../targets/addressing.js";
import type { HealthCheck } from "../targets/health.js";
import { channelStreams, channelSubjects, streamReplicas, type ChannelStream } from "./streams.js";
import { maxFileStoreBytes, type NatsSettings } from "./settings.js";

/** Container ports (Kubernetes and Docker); the harness picks its own through `localAddressing`. */
export const NATS_PORTS = { client: 4222, cluster: 6222, monitor: 8222 } as const;
/** The `nats` image has no user of its own; on Kubernetes it runs as this uid (the NATS chart's choice). */
export const NATS_UID = 1000;
export const NATS_APP_USER = "bus";
/** Peers authenticate their routes as this user (cluster authorization). */
export const NATS_ROUTE_USER = "route";
/** Subjects of the smoke probe's stream `BP_SMOKE`. */
export const NATS_SMOKE_SUBJECTS = "bp.smoke.>";
/** Subjects of the smoke probe's core pub/sub and request/reply rounds (kept out of `BP_SMOKE`). */
export const NATS_PROBE_SUBJECTS = "bp.probe.>";
/** At the start of lame duck mode, how long a node waits before it starts evicting clients. */
const LAME_DUCK_GRACE_SECONDS = 10;

/** Where a node's files live: differs per target (Docker uploads, Kubernetes mounts, harness temp dirs). */
export interface NatsLayout {
  /** Absolute path of node i's nats.conf. */
  configFile(node: number): string;
  /** Absolute path of node i's secret include (passwords, route URLs with credentials). */
  secretFile(node: number): string;
  /** JetStream `store_dir` of node i: on its volume. */
  storeDir(node: number): string;
}

export interface NatsNode {
  index: number;
  /** `server_name`: unique in the cluster, stable across restarts (JetStream peers are tracked by it). */
  name: string;
  listen: HostPort;
  monitor: HostPort;
  /** Absent on a single node: no cluster block at all. */
  cluster?: HostPort;
  /** Peers this node dials (never itself). */
  routes: HostPort[];
  /** `client_advertise`: the URL the cluster gossips to clients; absent with `noAdvertise`. */
  clientAdvertise?: HostPort;
  /** Where the clients of this target reach the node. */
  client: HostPort;
  /** Where a process beside the cluster (the init task on the stage network or in the namespace) reaches it. */
  peerClient: HostPort;
  clientMonitor: HostPort;
  configFile: string;
  secretFile: string;
  storeDir: string;
}

export interface SubjectPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
}

export interface NatsModel {
  clusterName: string;
  image: string;
  version: string;
  nodes: NatsNode[];
  /** Gossip no client URLs: set when clients' address for a node is unknown (bound to 0.0.0.0). */
  noAdvertise: boolean;
  jetstream: { maxFileStoreBytes: number; maxMemoryStoreBytes: number };
  /** Absent when the stage runs without auth (local, dev, ci only). */
  auth?: { user: string; routeUser: string; permissions: SubjectPermissions };
  lameDuckDurationSeconds: number;
  lameDuckGracePeriodSeconds: number;
  /** Kubernetes probes like the NATS chart's; Docker uses `liveness` (JetStream enabled, no quorum needed). */
  health: { startup: HealthCheck; readiness: HealthCheck; liveness: HealthCheck };
  /** Replicas of every stream, the probe's included. */
  streamReplicas: number;
  streams: ChannelStream[];
}

export interface NatsModelArgs {
  /** The stack name: the cluster name derives from it. */
  stack: string;
  settings: NatsSettings;
  addressing: Addressing;
  channels: readonly Channel[];
  layout: NatsLayout;
}

/** Listeners bound to every interface cannot be advertised: clients would be told to dial 0.0.0.0. */
const UNSPECIFIED_HOSTS = new Set(["0.0.0.0", "::", ""]);

/** What the `bus` user may do: its channels, the probe's subjects, the JetStream API, and replies. */
export function busPermissions(channels: readonly Channel[]): SubjectPermissions {
  const channelSubjectList = channels.flatMap((c) => channelSubjects(c.name));
  return {
    publish: {
      allow: [...channelSubjectList, NATS_SMOKE_SUBJECTS, NATS_PROBE_SUBJECTS, "$JS.API.>", "$JS.ACK.>", "_INBOX.>"],
      // Applications and probes never remove a channel's history; an operator does, deliberately.
      deny: ["$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>"],
    },
    subscribe: { allow: [...channelSubjectList, NATS_SMOKE_SUBJECTS, NATS_PROBE_SUBJECTS, "_INBOX.>"] },
  };
}

function natsNode(index: number, args: NatsModelArgs, clustered: boolean, advertise: boolean): NatsNode {
  const { addressing, layout, settings } = args;
  const port = (service: string) => addressing.port(index, service);
  const peers = Array.from({ length: settings.nodes }, (_, i) => i).filter((i) => i !== index);
  const client = addressing.client(index, "client");
  return {
    index,
    name: addressing.nodeName(index),
    listen: { host: addressing.bindHost, port: port("client") },
    monitor: { host: addressing.bindHost, port: port("monitor") },
    cluster: clustered ? { host: addressing.bindHost, port: port("cluster") } : undefined,
    routes: clustered ? peers.map((peer) => ({ host: addressing.peerHost(peer), port: addressing.port(peer, "cluster") })) : [],
    clientAdvertise: advertise ? client : undefined,
    client,
    peerClient: { host: addressing.peerHost(index), port: port("client") },
    clientMonitor: addressing.client(index, "monitor"),
    configFile: layout.configFile(index),
    secretFile: layout.secretFile(index),
    storeDir: layout.storeDir(index),
  };
}

export function natsModel(args: NatsModelArgs): NatsModel {
  const { settings } = args;
  const clustered = settings.nodes > 1;
  const clientHosts = Array.from({ length: settings.nodes }, (_, i) => args.addressing.client(i, "client").host);
  const noAdvertise = clientHosts.some((host) => UNSPECIFIED_HOSTS.has(host));
  const monitorPort = NATS_PORTS.monitor;
  return {
    clusterName: `bp-${args.stack}-nats`,
    image: settings.image ?? `nats:${settings.version}-alpine`,
    version: settings.version,
    nodes: Array.from({ length: settings.nodes }, (_, i) => natsNode(i, args, clustered, !noAdvertise)),
    noAdvertise,
    jetstream: { maxFileStoreBytes: maxFileStoreBytes(settings), maxMemoryStoreBytes: bytesOf(settings.jetstream.maxMemoryStore) },
    auth: settings.auth.enabled ? { user: NATS_APP_USER, routeUser: NATS_ROUTE_USER, permissions: busPermissions(args.channels) } : undefined,
    lameDuckDurationSeconds: secondsOf(settings.lameDuckDuration),
    lameDuckGracePeriodSeconds: LAME_DUCK_GRACE_SECONDS,
    health: {
      startup: { kind: "http", path: "/healthz", port: monitorPort },
      readiness: { kind: "http", path: "/healthz?js-server-only=true", port: monitorPort },
      liveness: { kind: "http", path: "/healthz?js-enabled-only=true", port: monitorPort },
    },
    streamReplicas: streamReplicas(settings.nodes),
    streams: channelStreams(args.channels, settings.nodes),
  };
}
