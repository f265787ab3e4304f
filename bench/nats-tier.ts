/**
 * What the NATS tier costs on this machine, measured on real nats-server processes started from the
 * tier's rendered configs (test/harness/nats.ts):
 *
 *   npx tsx bench/nats-tier.ts [runs]     (default 30 runs, after 3 warm-up runs of each)
 *
 * - cluster formation: 3 processes started -> routes up and one JetStream meta leader (5 clusters);
 * - a smoke run (runner + NATS probe: connect, 3 monitors, pub/sub, request/reply, JetStream round on
 *   an R3 stream with a durable consumer, channels listing, cleanup) against the floor (bare nats.js:
 *   connect, one R3 JetStream publish with ack, one ordered-consumer read, close), interleaved.
 * Prints medians, p90s and the ratio of medians. Never used as a timed assertion in tests.
 */
import { performance } from "node:perf_hooks";
import { connect } from "nats";
import { parseEndpoints } from "../healthchecks/endpoints.js";
import { runSmoke } from "../healthchecks/runner.js";
import { applyStreams, startNatsCluster } from "../test/harness/nats.js";
import { quantile, timed } from "./stats.js";

const DEFAULT_RUNS = 30;
const WARMUP_RUNS = 3;
const FORMATION_SAMPLES = 5;
/** The floor publishes below a channel (the `bus` user may publish nothing else) into its R3 stream. */
const FLOOR_STREAM = "ORDERS_PLACED";
const FLOOR_SUBJECT = "orders.placed.bench";

const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
const summary = (label: string, samples: number[]): string => `${label}: median ${fmt(quantile(samples, 0.5))}, p90 ${fmt(quantile(samples, 0.9))}`;

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? DEFAULT_RUNS);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${process.argv[2]}`);

  const formation: number[] = [];
  for (let i = 0; i < FORMATION_SAMPLES; i++) {
    const started = performance.now();
    const cluster = await startNatsCluster({ stack: "bench", channels: [] });
    formation.push(performance.now() - started);
    await cluster.stop();
  }

  const cluster = await startNatsCluster({ stack: "bench" });
  try {
    const { servers, user, password } = cluster.endpoint();
    const setup = await cluster.connect();
    await applyStreams(setup, cluster.model.streams);
    await setup.close();

    const endpoints = parseEndpoints({ version: 1, stage: "bench", nats: cluster.endpoint(), channels: cluster.channels.map((c) => ({ name: c.name, durable: c.durable, consumerGroups: c.consumerGroups })) });
    const smoke = async (): Promise<void> => {
      const result = await runSmoke({ endpoints, deadlineMs: 10_000 });
      if (result.verdict !== "pass") throw new Error(`smoke run did not pass: ${result.tiers[0]?.reason ?? result.verdict}`);
    };
    const floor = async (i: number): Promise<void> => {
      const nc = await connect({ servers, user, pass: password });
      try {
        const js = nc.jetstream();
        const ack = await js.publish(`${FLOOR_SUBJECT}.${i}`, `x${i}`);
        const consumer = await js.consumers.get(FLOOR_STREAM, { filterSubjects: [`${FLOOR_SUBJECT}.${i}`] });
        const message = await consumer.next({ expires: 5000 });
        if (message?.seq !== ack.seq) throw new Error("floor: read a different message");
      } finally {
        await nc.close();
      }
    };

    for (let i = 0; i < WARMUP_RUNS; i++) {
      await smoke();
      await floor(runs + i);
    }
    const smokeMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      smokeMs.push((await timed(smoke))[0]);
      floorMs.push((await timed(() => floor(i)))[0]);
    }
    console.log(`3-node nats-server ${cluster.model.version} cluster on 127.0.0.1 from the rendered configs; ${runs} runs each (after ${WARMUP_RUNS} warm-up), interleaved`);
    console.log(summary(`cluster formation (${FORMATION_SAMPLES} clusters)`, formation));
    console.log(summary("smoke run (runner + NATS probe)  ", smokeMs));
    console.log(summary("floor (connect, R3 publish, read)", floorMs));
    console.log(`ratio of medians: ${(quantile(smokeMs, 0.5) / quantile(floorMs, 0.5)).toFixed(2)}x`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/nats-tier: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
