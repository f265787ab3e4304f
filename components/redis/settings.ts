/** What a stage can say about its Redis tier (Redis Streams + Pub/Sub). */
import { z } from "zod";
import type { StageProblem } from "../errors/stage-validation-error.js";
import { authSettings, byteQuantity, bytesOf, hostPort, imageSetting, resourceSettings, storageSettings } from "../settings-common.js";

/** Policies that evict only keys with a TTL: streams have none, so stream data is never evicted. */
export const SAFE_EVICTION_POLICIES = ["noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] as const;

/**
 * Commands a stage may disable (`rename-command X ""`, as Bitnami does). Only commands that neither
 * the smoke probe nor the channel init task uses are listed, so disabling one cannot break a deploy.
 */
export const DISABLEABLE_COMMANDS = ["FLUSHALL", "FLUSHDB", "DEBUG", "KEYS", "CONFIG", "MONITOR", "SWAPDB", "MIGRATE"] as const;

/** Share of the container memory `maxMemory` may take: forks (AOF rewrite, RDB, full sync) and buffers need the rest. */
export const MAX_MEMORY_SHARE = 0.75;

export const redisSettings = z.strictObject({
  /** Redis server version (image tag). @default "7.4" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `7.4`").default("7.4"),
  image: imageSetting,
  /** Replicas beside the primary; 0 runs a standalone server. @default 0 */
  replicas: z.number().int().min(0).max(5).default(0),
  /** `aof` (appendfsync everysec) suits streams; `none` is for throw-away stages. @default "aof" */
  persistence: z.enum(["aof", "rdb", "aof+rdb", "none"]).default("aof"),
  /** Redis `maxmemory`; at most 75% of `resources.memory`. @default "256Mi" */
  maxMemory: byteQuantity.default("256Mi"),
  /** `allkeys-*` policies would evict stream data and are refused. @default "noeviction" */
  evictionPolicy: z.enum(SAFE_EVICTION_POLICIES).default("noeviction"),
  /** Dangerous commands turned off with `rename-command <X> ""`. @default ["FLUSHALL", "FLUSHDB", "DEBUG"] */
  disabledCommands: z.array(z.enum(DISABLEABLE_COMMANDS)).default(["FLUSHALL", "FLUSHDB", "DEBUG"]),
  storage: storageSettings.prefault({}),
  resources: resourceSettings.prefault({}),
  auth: authSettings.prefault({}),
  /** Docker only: host port of node 0; node i publishes `hostPort + i`. @default 6379 */
  hostPort: hostPort.default(6379),
});

export type RedisSettings = z.infer<typeof redisSettings>;

/** Cross-field problems of a stage's Redis settings, each naming its field; empty when all is well. */
export function redisProblems(redis: RedisSettings, throwaway: boolean): StageProblem[] {
  const problems: StageProblem[] = [];
  const limit = bytesOf(redis.resources.memory);
  if (bytesOf(redis.maxMemory) > limit * MAX_MEMORY_SHARE) {
    problems.push({
      path: "redis.maxMemory",
      message: `${redis.maxMemory} is more than ${MAX_MEMORY_SHARE * 100}% of redis.resources.memory (${redis.resources.memory}): a fork for AOF rewrite or replica sync would be OOM-killed`,
    });
  }
  // A primary that restarts empty makes its replicas sync the empty dataset: everything is lost.
  if (redis.persistence === "none" && redis.replicas > 0 && !throwaway) {
    problems.push({ path: "redis.persistence", message: "`none` with redis.replicas > 0 lets a restarted, empty primary wipe its replicas; use `aof` outside local, dev and ci" });
  }
  redis.disabledCommands.forEach((command, i) => {
    if (redis.disabledCommands.indexOf(command) !== i) problems.push({ path: `redis.disabledCommands[${i}]`, message: `\`${command}\` is listed twice` });
  });
  return problems;
}
