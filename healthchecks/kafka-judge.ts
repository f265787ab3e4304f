/**
 * Pure verdicts of the Kafka probe over metadata it already fetched: broker count against the expected
 * cluster size, and the health of every partition of the channel topics. Tested with tables.
 */
import type { ITopicMetadata } from "kafkajs";
import type { StepOutcome } from "./steps.js";

export interface BrokerMetadata {
  brokers: { nodeId: number; host: string; port: number }[];
  controller: number | null;
}

export interface TopicExpectation {
  name: string;
  partitions: number;
}

/** Problems listed in a detail before the rest is summed up as "and N more". */
export const MAX_LISTED = 6;

function listed(items: string[]): string {
  const shown = items.slice(0, MAX_LISTED).join("; ");
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Fewer brokers than expected is `degraded` (the cluster still works), none at all is `fail`. */
export function judgeBrokers(metadata: BrokerMetadata, bootstrap: readonly string[], clusterSize: number): StepOutcome {
  const alive = metadata.brokers.length;
  const ids = metadata.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  if (alive === 0) return { verdict: "fail", detail: "the metadata lists no broker" };
  const addresses = new Set(metadata.brokers.map((b) => `${b.host}:${b.port}`));
  const missing = bootstrap.filter((b) => !addresses.has(b));
  const summary = `${alive}/${clusterSize} brokers (node ids ${ids.join(", ")})`;
  if (alive < clusterSize) {
    return { verdict: "degraded", detail: `${summary}${missing.length > 0 ? `; not in the metadata: ${missing.join(", ")}` : ""}` };
  }
  return summary;
}

/**
 * A missing topic or a partition without a leader is `fail` (its writes are refused); a partition
 * whose ISR is short of its replicas, or a topic with fewer partitions than configured, is `degraded`.
 */
export function judgePartitions(expected: readonly TopicExpectation[], metadata: readonly ITopicMetadata[]): StepOutcome {
  const failures: string[] = [];
  const degraded: string[] = [];
  let partitions = 0;
  for (const topic of expected) {
    const meta = metadata.find((m) => m.name === topic.name);
    if (meta === undefined) {
      failures.push(`topic ${topic.name} missing`);
      continue;
    }
    if (meta.partitions.length < topic.partitions) degraded.push(`${topic.name} has ${meta.partitions.length} of ${topic.partitions} partitions`);
    for (const p of [...meta.partitions].sort((a, b) => a.partitionId - b.partitionId)) {
      partitions++;
      const where = `${topic.name}[${p.partitionId}]`;
      if (p.leader < 0) {
        failures.push(`${where} offline (no leader; replicas ${p.replicas.join(",")})`);
      } else if (p.isr.length < p.replicas.length) {
        const outOfSync = p.replicas.filter((r) => !p.isr.includes(r));
        degraded.push(`${where} under-replicated (ISR ${p.isr.length}/${p.replicas.length}, out of sync: node ${outOfSync.join(",")})`);
      }
    }
  }
  if (failures.length > 0) return { verdict: "fail", detail: listed([...failures, ...degraded]) };
  if (degraded.length > 0) return { verdict: "degraded", detail: listed(degraded) };
  return `${plural(expected.length, "topic")}, ${plural(partitions, "partition")}: every one led, ISR complete`;
}
