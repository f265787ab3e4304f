/**
 * BotPlatform's channels as RabbitMQ objects (PURE): one topic exchange for all events, a quorum queue
 * per consumer group of a durable channel (`<channel>.<group>`) bound by the channel's name, a
 * dead-letter exchange + quorum queue, and one policy per channel carrying what may change later
 * (delivery limit, dead-lettering, retention). Queue x-arguments are fixed at declaration and a boot-time
 * definitions import skips queues that exist, so only the queue type is an argument; a policy is
 * re-applied to existing queues on every import, so a changed limit reaches them. Fire-and-forget
 * channels get no queue: their consumers bind their own exclusive queues to the exchange.
 */
import type { Channel } from "../channels.js";
import { bytesOf, secondsOf } from "../settings-common.js";

export const VHOST = "botplatform";
export const EVENTS_EXCHANGE = "botplatform.events";
export const DEAD_LETTER_EXCHANGE = "botplatform.dlx";
export const DEAD_LETTER_QUEUE = "botplatform.dead-letters";
/** Dead letters are for a human to inspect, not to keep forever: a week, at most 100k of them. */
export const DEAD_LETTER_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000; // 7 days
export const DEAD_LETTER_MAX_MESSAGES = 100_000;

export interface ExchangeDefinition {
  name: string;
  vhost: string;
  type: "topic";
  durable: true;
  auto_delete: false;
  internal: false;
  arguments: Record<string, never>;
}

export interface QueueDefinition {
  name: string;
  vhost: string;
  durable: true;
  auto_delete: false;
  arguments: { "x-queue-type": "quorum" };
}

export interface BindingDefinition {
  source: string;
  vhost: string;
  destination: string;
  destination_type: "queue";
  routing_key: string;
  arguments: Record<string, never>;
}

export interface PolicyDefinition {
  vhost: string;
  name: string;
  pattern: string;
  "apply-to": "queues";
  priority: number;
  definition: Record<string, string | number>;
}

export interface Topology {
  exchanges: ExchangeDefinition[];
  queues: QueueDefinition[];
  bindings: BindingDefinition[];
  policies: PolicyDefinition[];
}

/** `<channel>.<group>`: unambiguous, since group names hold no dot. */
export function queueName(channel: string, group: string): string {
  return `${channel}.${group}`;
}

const exchange = (name: string): ExchangeDefinition => ({ name, vhost: VHOST, type: "topic", durable: true, auto_delete: false, internal: false, arguments: {} });
const quorumQueue = (name: string): QueueDefinition => ({ name, vhost: VHOST, durable: true, auto_delete: false, arguments: { "x-queue-type": "quorum" } });
const binding = (source: string, destination: string, routingKey: string): BindingDefinition => ({
  source,
  vhost: VHOST,
  destination,
  destination_type: "queue",
  routing_key: routingKey,
  arguments: {},
});
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A policy matching exactly `queues`: never another channel's queue, never the probe's. */
function exactPolicy(name: string, queues: readonly string[], definition: Record<string, string | number>): PolicyDefinition {
  return { vhost: VHOST, name, pattern: `^(${queues.map(escapeRegExp).join("|")})$`, "apply-to": "queues", priority: 0, definition };
}

function channelPolicy(channel: Channel, queues: readonly string[], deliveryLimit: number): PolicyDefinition {
  const definition: Record<string, string | number> = {
    "delivery-limit": deliveryLimit,
    "dead-letter-exchange": DEAD_LETTER_EXCHANGE,
    "max-length": channel.retention.maxMessages,
    "message-ttl": secondsOf(channel.retention.maxAge) * 1000,
  };
  if (channel.retention.maxBytes !== undefined) definition["max-length-bytes"] = bytesOf(channel.retention.maxBytes);
  return exactPolicy(`bp-channel-${channel.name}`, queues, definition);
}

export function channelTopology(channels: readonly Channel[], deliveryLimit: number): Topology {
  const queues: QueueDefinition[] = [];
  const bindings: BindingDefinition[] = [];
  const policies: PolicyDefinition[] = [];
  for (const channel of channels) {
    if (!channel.durable || channel.consumerGroups.length === 0) continue;
    const names = channel.consumerGroups.map((group) => queueName(channel.name, group));
    for (const name of names) {
      queues.push(quorumQueue(name));
      bindings.push(binding(EVENTS_EXCHANGE, name, channel.name));
    }
    policies.push(channelPolicy(channel, names, deliveryLimit));
  }
  queues.push(quorumQueue(DEAD_LETTER_QUEUE));
  // `#`: every dead letter keeps its original routing key, so one queue catches all channels.
  bindings.push(binding(DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, "#"));
  policies.push(exactPolicy("bp-dead-letters", [DEAD_LETTER_QUEUE], { "max-length": DEAD_LETTER_MAX_MESSAGES, "message-ttl": DEAD_LETTER_MAX_AGE_MS }));
  return { exchanges: [exchange(EVENTS_EXCHANGE), exchange(DEAD_LETTER_EXCHANGE)], queues, bindings, policies };
}
