/**
 * Channels as JetStream objects, computed as plain data: each durable channel is one stream capturing
 * `<channel>` and `<channel>.>`, with one durable pull consumer per consumer group. The objects are the
 * JetStream API's own JSON (`$JS.API.STREAM.CREATE` / `CONSUMER.CREATE` payloads, which the `nats` CLI
 * reads with `--config`), so the init task and the test harness create exactly the same thing.
 */
import type { Channel } from "../channels.js";
import type { StageProblem } from "../errors/stage-validation-error.js";
import { bytesOf, secondsOf } from "../settings-common.js";

/** JetStream durations are nanoseconds. */
const NS_PER_SECOND = 1_000_000_000;
/** JetStream's default duplicate window; shortened to `max_age` when that is shorter (the server requires it). */
const DUPLICATE_WINDOW_SECONDS = 2 * 60; // 2 min
/** Unacknowledged deliveries one consumer group may have outstanding. */
const MAX_ACK_PENDING = 1000;
/** Redeliver an unacknowledged event after this long. */
const ACK_WAIT_SECONDS = 30;
/** Streams never hold more than 3 replicas: more copies add write latency, not safety that matters here. */
export const MAX_STREAM_REPLICAS = 3;

export interface StreamConfig {
  name: string;
  description: string;
  subjects: string[];
  retention: "limits";
  storage: "file";
  num_replicas: number;
  max_msgs: number;
  /** -1: unlimited. */
  max_bytes: number;
  /** Nanoseconds. */
  max_age: number;
  discard: "old";
  /** Nanoseconds. */
  duplicate_window: number;
}

export interface ConsumerConfig {
  durable_name: string;
  description: string;
  ack_policy: "explicit";
  deliver_policy: "all";
  replay_policy: "instant";
  /** Nanoseconds. */
  ack_wait: number;
  max_ack_pending: number;
}

export interface ChannelStream {
  channel: string;
  stream: StreamConfig;
  consumers: ConsumerConfig[];
}

/** Replicas of every stream on a cluster of `nodes`. */
export function streamReplicas(nodes: number): number {
  return Math.min(MAX_STREAM_REPLICAS, nodes);
}

/** `orders.placed` -> `ORDERS_PLACED`: stream names may not hold `.`, and upper case sets them apart from subjects. */
export function streamName(channel: string): string {
  return channel.toUpperCase().replace(/[.-]/g, "_");
}

/** The subjects a channel's stream captures: the channel itself and everything below it. */
export function channelSubjects(channel: string): string[] {
  return [channel, `${channel}.>`];
}

export function channelStream(channel: Channel, nodes: number): ChannelStream {
  const maxAge = secondsOf(channel.retention.maxAge);
  return {
    channel: channel.name,
    stream: {
      name: streamName(channel.name),
      description: `BotPlatform channel ${channel.name}`,
      subjects: channelSubjects(channel.name),
      retention: "limits",
      storage: "file",
      num_replicas: streamReplicas(nodes),
      max_msgs: channel.retention.maxMessages,
      max_bytes: channel.retention.maxBytes === undefined ? -1 : bytesOf(channel.retention.maxBytes),
      max_age: maxAge * NS_PER_SECOND,
      discard: "old",
      duplicate_window: Math.min(DUPLICATE_WINDOW_SECONDS, maxAge) * NS_PER_SECOND,
    },
    consumers: channel.consumerGroups.map((group) => ({
      durable_name: group,
      description: `consumer group ${group} of ${channel.name}`,
      ack_policy: "explicit",
      deliver_policy: "all",
      replay_policy: "instant",
      ack_wait: ACK_WAIT_SECONDS * NS_PER_SECOND,
      max_ack_pending: MAX_ACK_PENDING,
    })),
  };
}

/** The JetStream objects of a stage: durable channels only (the others are core NATS subjects). */
export function channelStreams(channels: readonly Channel[], nodes: number): ChannelStream[] {
  return channels.filter((c) => c.durable).map((c) => channelStream(c, nodes));
}

/** True when a message on one channel's subjects would also match the other's (`a.>` covers `a.b`). */
function overlaps(a: string, b: string): boolean {
  return a === b || b.startsWith(`${a}.`) || a.startsWith(`${b}.`);
}

/**
 * What JetStream would refuse: two durable channels whose streams would share a name, or whose
 * subjects overlap (a subject may belong to one stream only).
 */
export function natsChannelProblems(channels: readonly Channel[]): StageProblem[] {
  const problems: StageProblem[] = [];
  channels.forEach((channel, i) => {
    if (!channel.durable) return;
    for (let j = 0; j < i; j++) {
      const other = channels[j];
      if (other === undefined || !other.durable || other.name === channel.name) continue;
      if (streamName(other.name) === streamName(channel.name)) {
        problems.push({ path: `channels[${i}].name`, message: `\`${channel.name}\` and channels[${j}] \`${other.name}\` would both be JetStream stream ${streamName(channel.name)}` });
      } else if (overlaps(other.name, channel.name)) {
        problems.push({ path: `channels[${i}].name`, message: `\`${channel.name}\` overlaps channels[${j}] \`${other.name}\`: a NATS subject can belong to one JetStream stream only` });
      }
    }
  });
  return problems;
}
