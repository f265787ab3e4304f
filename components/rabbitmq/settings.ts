/** What a stage can say about its RabbitMQ tier. */
import { z } from "zod";
import { authSettings, byteQuantity, hostPort, imageSetting, resourceSettings, storageSettings } from "../settings-common.js";

export const rabbitmqSettings = z.strictObject({
  /** RabbitMQ version (image tag of `rabbitmq:<version>-management`). @default "4.1" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `4.1`").default("4.1"),
  image: imageSetting,
  /** 1 or 3 nodes (quorum queues need 3 to survive a node loss). @default 1 */
  nodes: z.union([z.literal(1), z.literal(3)]).default(1),
  /** `vm_memory_high_watermark.relative`. @default 0.4 */
  memoryHighWatermark: z.number().min(0.1).max(0.9).default(0.4),
  /** `disk_free_limit.absolute`. @default "1Gi" */
  diskFreeLimit: byteQuantity.default("1Gi"),
  storage: storageSettings.prefault({}),
  resources: resourceSettings.prefault({}),
  auth: authSettings.prefault({}),
  /** Docker only: host ports of node 0; node i publishes `port + i`. */
  hostPorts: z
    .strictObject({
      /** @default 5672 */
      amqp: hostPort.default(5672),
      /** @default 15672 */
      management: hostPort.default(15672),
    })
    .prefault({}),
});

export type RabbitmqSettings = z.infer<typeof rabbitmqSettings>;
