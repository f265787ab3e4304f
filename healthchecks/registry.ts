/**
 * Which probe checks which tier. Adding a tier's probe is one file (`healthchecks/<tier>.ts` exporting
 * a `Probe`) and one line here. A tier without an entry fails with "no probe for tier X" when run.
 */
import type { TierName } from "./endpoints.js";
import { kafkaProbe } from "./kafka.js";
import { natsProbe } from "./nats.js";
import type { Probe } from "./probe.js";
import { rabbitmqProbe } from "./rabbitmq.js";
import { redisProbe } from "./redis.js";

export const probes: ReadonlyMap<TierName, Probe> = new Map<TierName, Probe>([
  ["redis", redisProbe],
  ["nats", natsProbe],
  ["kafka", kafkaProbe],
  ["rabbitmq", rabbitmqProbe],
]);
