/** What a stage can say about its Redis tier (Redis Streams + Pub/Sub). */
import { z } from "zod";
import { authSettings, byteQuantity, hostPort, imageSetting, resourceSettings, storageSettings } from "../settings-common.js";

/** Policies that evict only keys with a TTL: streams have none, so stream data is never evicted. */
export const SAFE_EVICTION_POLICIES = ["noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] as const;

export const redisSettings = z.strictObject({
  /** Redis server version (image tag). @default "7.4" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `7.4`").default("7.4"),
  image: imageSetting,
  /** Replicas beside the primary; 0 runs a standalone server. @default 0 */
  replicas: z.number().int().min(0).max(5).default(0),
  /** `aof` (appendfsync everysec) suits streams; `none` is for throw-away stages. @default "aof" */
  persistence: z.enum(["aof", "rdb", "aof+rdb", "none"]).default("aof"),
  /** Redis `maxmemory`. @default "256Mi" */
  maxMemory: byteQuantity.default("256Mi"),
  /** `allkeys-*` policies would evict stream data and are refused. @default "noeviction" */
  evictionPolicy: z.enum(SAFE_EVICTION_POLICIES).default("noeviction"),
  storage: storageSettings.prefault({}),
  resources: resourceSettings.prefault({}),
  auth: authSettings.prefault({}),
  /** Docker only: host port of node 0; node i publishes `hostPort + i`. @default 6379 */
  hostPort: hostPort.default(6379),
});

export type RedisSettings = z.infer<typeof redisSettings>;
