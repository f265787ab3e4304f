/** What a stage can say about its RabbitMQ tier. */
import { z } from "zod";
import type { Channel } from "../channels.js";
import type { StageProblem } from "../errors/stage-validation-error.js";
import { authSettings, byteQuantity, hostPort, imageSetting, resourceSettings, secondsOf, storageSettings } from "../settings-common.js";

/** RabbitMQ refuses a `message-ttl` above 2^32 - 1 ms (about 49.7 days). */
export const MAX_MESSAGE_TTL_MS = 2 ** 32 - 1;

export const rabbitmqSettings = z.strictObject({
  /** RabbitMQ version (image tag of `rabbitmq:<version>-management`). @default "4.1" */
  version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "must be a version like `4.1`").default("4.1"),
  image: imageSetting,
  /** 1 or 3 nodes (quorum queues need 3 to survive a node loss). @default 1 */
  nodes: z.union([z.literal(1), z.literal(3)]).default(1),
  /** `vm_memory_high_watermark.relative`, a share of `resources.memory`. @default 0.4 */
  memoryHighWatermark: z.number().min(0.1).max(0.9).default(0.4),
  /** `disk_free_limit.absolute`. @default "1Gi" */
  diskFreeLimit: byteQuantity.default("1Gi"),
  /**
   * Deliveries of one message before it is dead-lettered to `botplatform.dlx` (the quorum queue
   * `delivery-limit`): a poison message cannot loop forever. @default 20
   */
  deliveryLimit: z.number().int().min(1).max(1000).default(20),
  storage: storageSettings.prefault({}),
  /**
   * CPU request, memory request and limit. The memory default is above the kit-wide 512Mi: an idle
   * 3.10 node with management already uses ~140 MB, so 0.4 of 512Mi (205 MB) leaves little before
   * the memory alarm blocks every publisher. @default { cpu: "250m", memory: "1Gi" }
   */
  resources: resourceSettings.extend({ memory: byteQuantity.default("1Gi") }).prefault({}),
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

/** Channel settings RabbitMQ cannot honour, each naming its field; empty when all is well. */
export function rabbitmqProblems(channels: readonly Channel[]): StageProblem[] {
  const problems: StageProblem[] = [];
  channels.forEach((channel, i) => {
    if (!channel.durable) return; // fire-and-forget channels get no queue, so no TTL either
    const ttlMs = secondsOf(channel.retention.maxAge) * 1000;
    if (ttlMs > MAX_MESSAGE_TTL_MS) {
      problems.push({ path: `channels[${i}].retention.maxAge`, message: `${channel.retention.maxAge} is above RabbitMQ's message-ttl limit of 49 days` });
    }
  });
  return problems;
}
