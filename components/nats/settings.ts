/** What a stage can say about its NATS JetStream tier. */
import { z } from "zod";
import { authSettings, byteQuantity, hostPort, imageSetting, resourceSettings, storageSettings } from "../settings-common.js";

export const natsSettings = z.strictObject({
  /** nats-server version (image tag). @default "2.11" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `2.11`").default("2.11"),
  image: imageSetting,
  /** Cluster size: 1, 3 or 5 (JetStream's Raft needs an odd quorum). @default 1 */
  nodes: z
    .number()
    .int()
    .refine((n) => n === 1 || n === 3 || n === 5, "must be 1, 3 or 5: an even cluster size adds no fault tolerance to the JetStream quorum")
    .default(1),
  jetstream: z
    .strictObject({
      /** JetStream file store limit per node. @default "1Gi" */
      maxFileStore: byteQuantity.default("1Gi"),
      /** JetStream memory store limit per node. @default "64Mi" */
      maxMemoryStore: byteQuantity.default("64Mi"),
    })
    .prefault({}),
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
