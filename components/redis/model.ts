/**
 * PURE: a stage's Redis settings + an addressing strategy -> the Redis tier as plain data. Node 0 is
 * the primary; nodes 1..replicas replicate it. Docker, Kubernetes and the local test harness render
 * the same model; only the addressing and the file paths differ.
 */
import type { Channel } from "../channels.js";
import { bytesOf, secondsOf } from "../settings-common.js";
import type { Addressing, HostPort } from "../targets/addressing.js";
import { IMAGE_CONTRACTS } from "../targets/image-contract.js";
import type { HealthCheck } from "../targets/health.js";
import type { RedisSettings } from "./settings.js";

export const REDIS_PORT = 6379;
/** The official image's `redis` user (and group). */
export const REDIS_UID = IMAGE_CONTRACTS.redis.user.uid;
/** The addressing service name of the client port. */
export const CLIENT_SERVICE = "client";
export const REDIS_PORTS = { [CLIENT_SERVICE]: REDIS_PORT } as const;
export const PRIMARY = 0;

/** Files of the secret directory: an `include`d config holding the passwords, and the bare password. */
export const AUTH_CONF_FILE = "auth.conf";
export const PASSWORD_FILE = "password";

/** Seconds `redis-cli ping` may take inside a health check before it counts as failed. */
export const PING_TIMEOUT_S = 3;

export interface RedisPaths {
  /** `dir`: AOF and RDB files. */
  dataDir: string;
  /** Where the node's redis.conf lives (a ConfigMap mount on Kubernetes). */
  configDir: string;
  /** Where `auth.conf` and `password` live (a Secret mount on Kubernetes); never in `configDir`. */
  secretDir: string;
}

/** Paths inside the official image (data in `/data`, as the image declares). */
export const CONTAINER_PATHS: RedisPaths = { dataDir: IMAGE_CONTRACTS.redis.dataDir, configDir: "/usr/local/etc/redis", secretDir: "/run/secrets/redis" };

export type RedisRole = "primary" | "replica";

export interface RedisNode {
  index: number;
  /** Container name, pod name, or `redis-<i>` locally. */
  name: string;
  role: RedisRole;
  bindHost: string;
  port: number;
  /** How the other nodes (and the init task) reach this node. */
  peer: HostPort;
  /** How the clients of the target reach this node. */
  client: HostPort;
  /** The primary's peer address; replicas only. */
  replicaOf?: HostPort;
  paths: RedisPaths;
  /** Checks run inside the node's container: its own port and secret path. */
  health: RedisHealth;
}

export interface RedisHealth {
  /** Passes once the server answers (also while it loads its AOF). */
  startup: HealthCheck;
  /** Passes only on `PONG`: the server serves commands. */
  readiness: HealthCheck;
  /** Passes while the process answers at all (`LOADING`, `MASTERDOWN` included): no restart loops during a long load. */
  liveness: HealthCheck;
}

export interface RedisModel {
  version: string;
  image: string;
  auth: boolean;
  replicas: number;
  nodes: RedisNode[];
  persistence: RedisSettings["persistence"];
  maxMemoryBytes: number;
  evictionPolicy: RedisSettings["evictionPolicy"];
  disabledCommands: readonly string[];
  /** Where clients reach the primary: the endpoints contract's URL host and port. */
  primaryClient: HostPort;
  /** The durable channels: one stream each, with its consumer groups and retention. */
  streams: RedisStream[];
}

export interface RedisStream {
  /** The stream key: the channel name. */
  key: string;
  groups: string[];
  maxLength: number;
  maxAgeSeconds: number;
}

export interface RedisModelInput {
  settings: RedisSettings;
  addressing: Addressing;
  channels: readonly Channel[];
  /** @default CONTAINER_PATHS for every node */
  paths?: (node: number) => RedisPaths;
}

export function redisImage(settings: Pick<RedisSettings, "image" | "version">): string {
  return settings.image ?? `redis:${settings.version}`;
}

export function redisModel(input: RedisModelInput): RedisModel {
  const { settings, addressing } = input;
  const pathsOf = input.paths ?? (() => CONTAINER_PATHS);
  const peerOf = (i: number): HostPort => ({ host: addressing.peerHost(i), port: addressing.port(i, CLIENT_SERVICE) });
  const nodes = Array.from({ length: settings.replicas + 1 }, (_, i): RedisNode => {
    const port = addressing.port(i, CLIENT_SERVICE);
    const paths = pathsOf(i);
    return {
      index: i,
      name: addressing.nodeName(i),
      role: i === PRIMARY ? "primary" : "replica",
      bindHost: addressing.bindHost,
      port,
      peer: peerOf(i),
      client: addressing.client(i, CLIENT_SERVICE),
      replicaOf: i === PRIMARY ? undefined : peerOf(PRIMARY),
      paths,
      health: redisHealth(port, settings.auth.enabled ? paths.secretDir : undefined),
    };
  });
  return {
    version: settings.version,
    image: redisImage(settings),
    auth: settings.auth.enabled,
    replicas: settings.replicas,
    nodes,
    persistence: settings.persistence,
    maxMemoryBytes: bytesOf(settings.maxMemory),
    evictionPolicy: settings.evictionPolicy,
    disabledCommands: settings.disabledCommands,
    primaryClient: nodes[PRIMARY]!.client,
    streams: redisStreams(input.channels),
  };
}

/** Durable channels become streams; non-durable ones are Pub/Sub channels, which need nothing up front. */
export function redisStreams(channels: readonly Channel[]): RedisStream[] {
  return channels
    .filter((c) => c.durable)
    .map((c) => ({
      key: c.name,
      groups: [...c.consumerGroups],
      maxLength: c.retention.maxMessages,
      maxAgeSeconds: secondsOf(c.retention.maxAge),
    }));
}

/** `redis-cli ping` with the password from the secret file (never on the command line, never in env of the spec). */
export function pingCheck(port: number, secretDir: string | undefined, accepted: readonly string[]): HealthCheck {
  // `read` is a shell builtin: the check needs nothing of the image beyond sh, timeout and redis-cli.
  const auth = secretDir === undefined ? "" : `IFS= read -r REDISCLI_AUTH < '${secretDir}/${PASSWORD_FILE}'; export REDISCLI_AUTH; `;
  const script = `${auth}reply="$(timeout ${PING_TIMEOUT_S} redis-cli -h 127.0.0.1 -p ${port} ping 2>&1)"; case "$reply" in ${accepted.join("|")}) exit 0;; esac; echo "$reply"; exit 1`;
  return { kind: "exec", command: ["sh", "-c", script] };
}

export function redisHealth(port: number, secretDir: string | undefined): RedisHealth {
  return {
    startup: pingCheck(port, secretDir, ["PONG", "LOADING*"]),
    readiness: pingCheck(port, secretDir, ["PONG"]),
    liveness: pingCheck(port, secretDir, ["PONG", "LOADING*", "MASTERDOWN*"]),
  };
}
