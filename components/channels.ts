/**
 * BotPlatform's event channels, declared once per stage with their needs. Each tier maps them onto its
 * own objects: a Redis stream + consumer groups, a JetStream stream + durable consumers, a Kafka topic,
 * a RabbitMQ topic-exchange binding + quorum queue per consumer group.
 */
import { z } from "zod";
import { byteQuantity, duration } from "./settings-common.js";

/** Dot-separated lowercase words: valid as a Redis key, NATS subject, Kafka topic and AMQP routing key. */
const CHANNEL_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;
const CONSUMER_GROUP = /^[a-z][a-z0-9-]{0,62}$/;

export const channelSchema = z.strictObject({
  /** e.g. `orders.placed`. */
  name: z.string().regex(CHANNEL_NAME, "must be dot-separated lowercase words like `orders.placed`"),
  /** Durable channels are persisted and replayable; others are fire-and-forget (Redis Pub/Sub, core NATS). @default true */
  durable: z.boolean().default(true),
  retention: z
    .strictObject({
      /** How long events are kept. @default "7d" */
      maxAge: duration.default("7d"),
      /** Cap on retained events (Redis `MAXLEN`, JetStream `max_msgs`). @default 1000000 */
      maxMessages: z.number().int().min(1).default(1_000_000),
      /** Cap on retained bytes (Kafka `retention.bytes` per partition, JetStream `max_bytes`). */
      maxBytes: byteQuantity.optional(),
    })
    .prefault({}),
  /** Parallelism: Kafka partitions; consumers per group elsewhere. @default 1 */
  partitions: z.number().int().min(1).max(1024).default(1),
  /** Named consumer groups that read every event of the channel, each at its own pace. @default [] */
  consumerGroups: z
    .array(z.string().regex(CONSUMER_GROUP, "must be a lowercase name like `risk-engine`"))
    .default([]),
});

export type Channel = z.infer<typeof channelSchema>;

/** The channels a stage gets when its stack file declares none: BotPlatform's core event flow. */
export const BOTPLATFORM_CHANNELS: readonly z.input<typeof channelSchema>[] = [
  { name: "market.ticks", durable: false, partitions: 6, retention: { maxAge: "1h" } },
  { name: "signals", partitions: 3, consumerGroups: ["execution-engine"], retention: { maxAge: "1d" } },
  { name: "orders.placed", partitions: 6, consumerGroups: ["execution-engine", "risk-engine"] },
  { name: "orders.filled", partitions: 6, consumerGroups: ["portfolio", "risk-engine"] },
  { name: "risk.alerts", partitions: 1, consumerGroups: ["notifier"], retention: { maxAge: "30d" } },
];

/** Duplicate channel names and duplicate groups within a channel, each named with its path. */
export function channelProblems(channels: readonly Channel[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const firstIndex = new Map<string, number>();
  channels.forEach((channel, i) => {
    const earlier = firstIndex.get(channel.name);
    if (earlier !== undefined) {
      problems.push({ path: `channels[${i}].name`, message: `duplicates channels[${earlier}].name \`${channel.name}\`` });
    } else {
      firstIndex.set(channel.name, i);
    }
    const seen = new Set<string>();
    channel.consumerGroups.forEach((group, g) => {
      if (seen.has(group)) problems.push({ path: `channels[${i}].consumerGroups[${g}]`, message: `duplicate group \`${group}\`` });
      seen.add(group);
    });
  });
  return problems;
}
