/**
 * PURE: renders the Redis tier's files from the model: one redis.conf per node (no secret in it), the
 * secret `auth.conf` it `include`s, and the client URL of the endpoints contract.
 */
import type { HostPort } from "../targets/addressing.js";
import { AUTH_CONF_FILE, type RedisModel, type RedisNode } from "./model.js";

/** Redis 7's default RDB schedule: after 1 h if 1 key changed, 5 min if 100, 1 min if 10000. */
export const RDB_SAVE_SCHEDULE = "3600 1 300 100 60 10000";
/** Seconds between TCP keepalives: dead clients (and a dead primary link) are noticed within minutes. */
export const TCP_KEEPALIVE_S = 60;
/** The ACL user the `requirepass` password belongs to. */
export const DEFAULT_USER = "default";

function persistenceLines(model: RedisModel): string[] {
  const aof = model.persistence === "aof" || model.persistence === "aof+rdb";
  const rdb = model.persistence === "rdb" || model.persistence === "aof+rdb";
  return [
    // AOF fsynced every second: at most one second of stream writes lost on a crash.
    `appendonly ${aof ? "yes" : "no"}`,
    ...(aof ? ["appendfsync everysec"] : []),
    rdb ? `save ${RDB_SAVE_SCHEDULE}` : 'save ""',
  ];
}

function replicationLines(node: RedisNode): string[] {
  if (node.replicaOf === undefined) return [];
  return [
    `replicaof ${node.replicaOf.host} ${node.replicaOf.port}`,
    // The primary lists its replicas by this name (INFO, the smoke probe's degraded message) instead of
    // a container or pod IP that changes on every restart.
    `replica-announce-ip ${node.peer.host}`,
    `replica-announce-port ${node.peer.port}`,
    "replica-read-only yes",
  ];
}

/** The redis.conf of one node. Without auth it holds no `include`; with auth the secret file sets the passwords. */
export function renderRedisConf(model: RedisModel, node: RedisNode): string {
  const lines = [
    `# ${node.name}: Redis ${model.version} ${node.role}, rendered by botplatform-brokers (re-rendered on every deploy).`,
    `bind ${node.bindHost}`,
    `port ${node.port}`,
    // Without a password, protected mode would refuse every client that is not on loopback (Docker's
    // published ports, other pods); auth is only ever off on throw-away stages.
    `protected-mode ${model.auth ? "yes" : "no"}`,
    `dir ${node.paths.dataDir}`,
    "daemonize no",
    'logfile ""',
    `tcp-keepalive ${TCP_KEEPALIVE_S}`,
    "",
    "# Memory: stream entries carry no TTL, so noeviction / volatile-* never evict them.",
    `maxmemory ${model.maxMemoryBytes}`,
    `maxmemory-policy ${model.evictionPolicy}`,
    "",
    `# Persistence: ${model.persistence}`,
    ...persistenceLines(model),
    ...(node.replicaOf ? ["", "# Replication", ...replicationLines(node)] : []),
    ...(model.disabledCommands.length > 0 ? ["", "# Dangerous commands, disabled", ...model.disabledCommands.map((c) => `rename-command ${c} ""`)] : []),
    ...(model.auth ? ["", "# The passwords live in a secret file, never in this one.", `include ${node.paths.secretDir}/${AUTH_CONF_FILE}`] : []),
  ];
  return `${lines.join("\n")}\n`;
}

/** A redis.conf string value: double-quoted, with `\`, `"` and control characters escaped as Redis parses them. */
export function quoteConfigValue(value: string): string {
  const escaped = value
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `"${escaped}"`;
}

/** The secret `auth.conf`: the `default` user's password, and the same password for replicas to reach the primary. */
export function renderAuthConf(password: string): string {
  if (password === "") throw new Error("`redisPassword` must not be empty");
  const quoted = quoteConfigValue(password);
  return `requirepass ${quoted}\nmasterauth ${quoted}\n`;
}

/** `redis://default:<password>@host:port/0`; without a password no user info. */
export function redisUrl(address: HostPort, password?: string): string {
  const auth = password === undefined ? "" : `${DEFAULT_USER}:${encodeURIComponent(password)}@`;
  return `redis://${auth}${address.host}:${address.port}/0`;
}
