/**
 * How much does a full Redis smoke run cost over the bare minimum round trip?
 *
 *   npx tsx bench/smoke.ts [runs]        (default 50 runs, after 5 warm-up runs of each)
 *
 * Starts a local redis-server through the test harness, then alternates (so machine load hits both
 * alike) a smoke run (runner + Redis probe: connect, PING+INFO, Pub/Sub round, Streams round with a
 * consumer group, cleanup) with the floor (bare ioredis: connect, PING, one XADD + XREAD, DEL, close).
 * Prints medians, p90s and the ratio of medians. Never used as a timed assertion in tests.
 */
import { Redis } from "ioredis";
import { parseEndpoints } from "../healthchecks/endpoints.js";
import { runSmoke } from "../healthchecks/runner.js";
import { startRedis } from "../test/harness/redis.js";
import { quantile, timed } from "./stats.js";

const DEFAULT_RUNS = 50;
const WARMUP_RUNS = 5;

async function floorRound(url: string, key: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    await client.xadd(key, "*", "payload", "x");
    const read = await client.xread("COUNT", 1, "STREAMS", key, "0");
    if (read === null) throw new Error("floor: XREAD returned nothing");
    await client.del(key);
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? DEFAULT_RUNS);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${process.argv[2]}`);
  const server = await startRedis({ name: "redis-bench" });
  try {
    const endpoints = parseEndpoints({ version: 1, stage: "bench", redis: { url: server.url } });
    const smoke = async (): Promise<void> => {
      const result = await runSmoke({ endpoints, deadlineMs: 10_000 });
      if (result.verdict !== "pass") throw new Error(`smoke run did not pass: ${result.tiers[0]?.reason ?? result.verdict}`);
    };
    const floor = (i: number): Promise<void> => floorRound(server.url, `bench:floor:${i}`);

    for (let i = 0; i < WARMUP_RUNS; i++) {
      await smoke();
      await floor(i);
    }
    const smokeMs: number[] = [];
    const floorMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      smokeMs.push((await timed(smoke))[0]);
      floorMs.push((await timed(() => floor(i)))[0]);
    }
    const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;
    const [smokeMedian, floorMedian] = [quantile(smokeMs, 0.5), quantile(floorMs, 0.5)];
    console.log(`redis-server on ${server.host}:${server.port}, ${runs} runs each (after ${WARMUP_RUNS} warm-up), interleaved`);
    console.log(`smoke run (runner + redis probe): median ${fmt(smokeMedian)}, p90 ${fmt(quantile(smokeMs, 0.9))}`);
    console.log(`floor (connect+PING+XADD+XREAD):  median ${fmt(floorMedian)}, p90 ${fmt(quantile(floorMs, 0.9))}`);
    console.log(`ratio of medians: ${(smokeMedian / floorMedian).toFixed(2)}x`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench/smoke: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
