/**
 * Where does the Kafka probe's time go?
 *
 *   npx tsx bench/kafka-probe.ts [runs] [--environment ci|prod]     (default 30 runs)
 *
 * Starts a 3-node SASL/SCRAM KRaft cluster from the tier's rendered configs (test harness), then:
 *   1. one cold run on the fresh cluster (the probe creates `bp.smoke`; the first group commit makes
 *      Kafka create `__consumer_offsets`), before the topics init script has run;
 *   2. the topics script, then `runs` warm runs: median and p90 per step and in total;
 *   3. for comparison, what the probe avoids: a kafkajs consumer that joins a fresh group and reads
 *      one record (FindCoordinator, JoinGroup incl. the broker's first-rebalance delay, SyncGroup,
 *      Fetch): 0 ms delay on throw-away stages (ci), Kafka's 3 s default elsewhere (prod).
 * Prints a table. Never used as a timed assertion in tests.
 */
import { performance } from "node:perf_hooks";
import { Kafka, logLevel } from "kafkajs";
import { parseEndpoints, type TierName } from "../healthchecks/endpoints.js";
import { kafkaProbe } from "../healthchecks/kafka.js";
import type { Probe, TierResult } from "../healthchecks/probe.js";
import { runSmoke } from "../healthchecks/runner.js";
import { startKafkaCluster } from "../test/harness/kafka.js";
import { quantile } from "./stats.js";

const DEFAULT_RUNS = 30;
const CONSUMER_ROUNDS = 3;
const PROBES: ReadonlyMap<TierName, Probe> = new Map([["kafka", kafkaProbe]]);

const ms = (value: number): string => `${Math.round(value)} ms`.padStart(9);

async function probeOnce(endpoints: ReturnType<typeof parseEndpoints>): Promise<TierResult> {
  const result = await runSmoke({ endpoints, tiers: ["kafka"], probes: PROBES, deadlineMs: 60_000 });
  const tier = result.tiers[0]!;
  if (tier.verdict !== "pass") throw new Error(`probe did not pass: ${tier.reason ?? tier.verdict}`);
  return tier;
}

/** A group consumer reading one record: the classic way to "consume" with kafkajs. */
async function consumerJoinRound(kafka: Kafka, topic: string, round: number): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: `bench-${round}` }] });
  await producer.disconnect();
  const groupId = `bench-join-${Date.now()}-${round}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const started = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({ eachMessage: async () => resolve() });
  });
  const elapsed = performance.now() - started;
  await consumer.disconnect();
  await kafka.admin().deleteGroups([groupId]).catch(() => undefined);
  return elapsed;
}

async function main(): Promise<void> {
  const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? DEFAULT_RUNS);
  const envAt = process.argv.indexOf("--environment");
  const environment = (envAt >= 0 ? process.argv[envAt + 1] : "ci") as "ci" | "prod";
  const channels = [{ name: "orders.placed", partitions: 3 }, { name: "risk.alerts" }];
  const startedCluster = performance.now();
  const cluster = await startKafkaCluster({ kafka: { brokers: 3 }, channels, environment });
  console.log(`cluster (${environment}, 3 combined nodes, SASL) started in ${ms(performance.now() - startedCluster)}`);
  try {
    const endpoints = parseEndpoints(cluster.endpoints());
    const cold = await runSmoke({ endpoints, tiers: ["kafka"], probes: PROBES, deadlineMs: 60_000 }).then((r) => r.tiers[0]!);
    console.log(`\ncold run on the fresh cluster (${cold.verdict}; the channel topics do not exist yet): ${ms(cold.durationMs)}`);
    for (const step of cold.steps) console.log(`  ${step.name.padEnd(14)}${ms(step.durationMs)}  ${step.detail ?? ""}`);

    const topicsStarted = performance.now();
    await cluster.runTopicsScript();
    console.log(`\ntopics init script (real JVM tools, ${cluster.model.topics.length} topics): ${ms(performance.now() - topicsStarted)}`);

    const samples: TierResult[] = [];
    for (let i = 0; i < runs; i++) samples.push(await probeOnce(endpoints));
    console.log(`\n${runs} warm runs          median       p90`);
    for (const name of samples[0]!.steps.map((s) => s.name)) {
      const values = samples.map((s) => s.steps.find((step) => step.name === name)?.durationMs ?? Number.NaN);
      console.log(`  ${name.padEnd(14)}${ms(quantile(values, 0.5))} ${ms(quantile(values, 0.9))}`);
    }
    const totals = samples.map((s) => s.durationMs);
    console.log(`  ${"total".padEnd(14)}${ms(quantile(totals, 0.5))} ${ms(quantile(totals, 0.9))}`);

    const kafka = new Kafka({ clientId: "bench", brokers: cluster.brokers, logLevel: logLevel.NOTHING, sasl: { mechanism: "scram-sha-512", username: "bus", password: cluster.password! } });
    const joins: number[] = [];
    for (let i = 0; i < CONSUMER_ROUNDS; i++) joins.push(await consumerJoinRound(kafka, "bp.smoke", i));
    console.log(`\nwhat the probe avoids: kafkajs consumer join + first record, fresh group (rebalance delay ${cluster.model.groupInitialRebalanceDelayMs} ms): median ${ms(quantile(joins, 0.5))}`);
  } finally {
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
