/** What a stage can say about its NATS JetStream tier, and the checks across its fields. */
import { z } from "zod";
import type { StageProblem } from "../errors/stage-validation-error.js";
import { authSettings, byteQuantity, bytesOf, duration, hostPort, imageSetting, resourceSettings, secondsOf, storageSettings } from "../settings-common.js";

/** The nats-server release the kit deploys and tests (scripts/install/nats.sh builds the same one). */
export const NATS_DEFAULT_VERSION = "2.14.10";
/** Image with the `nats` CLI that runs the one-shot stream provisioning task. */
export const NATS_BOX_DEFAULT_IMAGE = "natsio/nats-box:0.19.7";
/** nats-server refuses a shorter lame duck period ("minimum is 30 seconds"). */
const MIN_LAME_DUCK_SECONDS = 30;
/** Longest lame duck a node may take to hand its clients over before it stops. */
const MAX_LAME_DUCK_SECONDS = 5 * 60; // 5 min

export const natsSettings = z.strictObject({
  /** nats-server version (image tag `nats:<version>-alpine`). @default "2.14.10" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `2.14.10`").default(NATS_DEFAULT_VERSION),
  /** Full image override; must be the alpine variant (the Docker health check runs its `wget`). @default "nats:<version>-alpine" */
  image: imageSetting,
  /** Cluster size: 1, 3 or 5 (JetStream's Raft needs an odd quorum). @default 1 */
  nodes: z
    .number()
    .int()
    .refine((n) => n === 1 || n === 3 || n === 5, "must be 1, 3 or 5: an even cluster size adds no fault tolerance to the JetStream quorum")
    .default(1),
  jetstream: z
    .strictObject({
      /** JetStream file store limit per node; at most `storage.size`. @default three quarters of `storage.size` */
      maxFileStore: byteQuantity.optional(),
      /** JetStream memory store limit per node; below `resources.memory`. @default "64Mi" */
      maxMemoryStore: byteQuantity.default("64Mi"),
    })
    .prefault({}),
  /**
   * How long a stopping node stays in lame duck mode, handing its clients to the other nodes before it
   * exits (Kubernetes preStop, Docker stop signal); 30s to 5m. @default "30s"
   */
  lameDuckDuration: duration.default("30s"),
  /** Image of the stream provisioning task (needs `sh` and the `nats` CLI). @default "natsio/nats-box:0.19.7" */
  toolsImage: z.string().min(1).default(NATS_BOX_DEFAULT_IMAGE),
  storage: storageSettings.prefault({}),
  resources: resourceSettings.prefault({}),
  auth: authSettings.prefault({}),
  /** Docker only: host ports of node 0; node i publishes `port + i`. */
  hostPorts: z
    .strictObject({
      /** @default 4222 */
      client: hostPort.default(4222),
      /** @default 8222 */
      monitor: hostPort.default(8222),
    })
    .prefault({}),
});

export type NatsSettings = z.infer<typeof natsSettings>;

/** `jetstream.maxFileStore` as given, else three quarters of the volume (room for Raft logs and indexes). */
export function maxFileStoreBytes(settings: NatsSettings): number {
  const given = settings.jetstream.maxFileStore;
  return given === undefined ? Math.floor((bytesOf(settings.storage.size) * 3) / 4) : bytesOf(given);
}

/** Limits that contradict each other; each problem names both fields. */
export function natsSettingsProblems(settings: NatsSettings): StageProblem[] {
  const problems: StageProblem[] = [];
  const { maxFileStore, maxMemoryStore } = settings.jetstream;
  if (maxFileStore !== undefined && bytesOf(maxFileStore) > bytesOf(settings.storage.size)) {
    problems.push({ path: "nats.jetstream.maxFileStore", message: `${maxFileStore} is larger than nats.storage.size (${settings.storage.size}): the volume would fill before JetStream's limit` });
  }
  if (bytesOf(maxMemoryStore) >= bytesOf(settings.resources.memory)) {
    problems.push({ path: "nats.jetstream.maxMemoryStore", message: `${maxMemoryStore} must be below nats.resources.memory (${settings.resources.memory}): the node would be OOM-killed first` });
  }
  const lameDuck = secondsOf(settings.lameDuckDuration);
  if (lameDuck < MIN_LAME_DUCK_SECONDS || lameDuck > MAX_LAME_DUCK_SECONDS) {
    problems.push({ path: "nats.lameDuckDuration", message: `${settings.lameDuckDuration} must be between ${MIN_LAME_DUCK_SECONDS} seconds (nats-server's minimum) and ${MAX_LAME_DUCK_SECONDS / 60} minutes` });
  }
  return problems;
}
