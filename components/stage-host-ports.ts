/** Docker host ports: every published port of every node must be distinct across tiers. */
import type { StageProblem } from "./errors/stage-validation-error.js";
import type { Stage } from "./stage.js";

interface PortRange {
  path: string;
  first: number;
  count: number;
}

/** The host port ranges each enabled tier publishes: node i uses `base + i`. */
export function publishedPortRanges(stage: Stage): PortRange[] {
  const ranges: PortRange[] = [];
  if (stage.redis) ranges.push({ path: "redis.hostPort", first: stage.redis.hostPort, count: stage.redis.replicas + 1 });
  if (stage.nats) {
    ranges.push({ path: "nats.hostPorts.client", first: stage.nats.hostPorts.client, count: stage.nats.nodes });
    ranges.push({ path: "nats.hostPorts.monitor", first: stage.nats.hostPorts.monitor, count: stage.nats.nodes });
  }
  if (stage.kafka) ranges.push({ path: "kafka.hostPort", first: stage.kafka.hostPort, count: stage.kafka.brokers });
  if (stage.rabbitmq) {
    ranges.push({ path: "rabbitmq.hostPorts.amqp", first: stage.rabbitmq.hostPorts.amqp, count: stage.rabbitmq.nodes });
    ranges.push({ path: "rabbitmq.hostPorts.management", first: stage.rabbitmq.hostPorts.management, count: stage.rabbitmq.nodes });
  }
  return ranges;
}

export function hostPortProblems(stage: Stage): StageProblem[] {
  const ranges = publishedPortRanges(stage);
  const problems: StageProblem[] = [];
  ranges.forEach((a, i) => {
    const last = a.first + a.count - 1;
    if (last > 65535) problems.push({ path: a.path, message: `node ${a.count - 1} would publish port ${last}, above 65535` });
    for (const b of ranges.slice(0, i)) {
      if (a.first <= b.first + b.count - 1 && b.first <= last) {
        problems.push({ path: a.path, message: `ports ${a.first}-${last} overlap ${b.path} (${b.first}-${b.first + b.count - 1})` });
      }
    }
  });
  return problems;
}
