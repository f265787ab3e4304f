/**
 * What the Redis tier costs on real redis-server, from its own rendered configs:
 *
 *   npx tsx bench/redis-tier.ts [runs]        (default 10 runs)
 *
 * Per run: start primary + 1 replica (auth, AOF) until the replica is online, the channel init script
 * (first run, then the idempotent re-run), and one smoke run (runner + Redis probe) against it.
 * Prints medians and p90s. Never used as a timed assertion in tests.
 */
import { runSmoke } from "../healthchecks/runner.js";
import { startRedisTier } from "../test/harness/redis-tier.js";
import { quantile, timed } from "./stats.js";

const DEFAULT_RUNS = 10;
const SMOKE_DEADLINE_MS = 15 * 1000;

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? DEFAULT_RUNS);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${process.argv[2]}`);
  const samples: Record<string, number[]> = { "start primary+replica": [], "init (first)": [], "init (re-run)": [], "smoke run": [] };
  for (let i = 0; i < runs; i++) {
    const [startMs, cluster] = await timed(() => startRedisTier({ settings: { replicas: 1, persistence: "aof" } }));
    try {
      samples["start primary+replica"]!.push(startMs);
      samples["init (first)"]!.push((await timed(() => cluster.runInit()))[0]);
      samples["init (re-run)"]!.push((await timed(() => cluster.runInit()))[0]);
      const [smokeMs, result] = await timed(() => runSmoke({ endpoints: cluster.endpoints, deadlineMs: SMOKE_DEADLINE_MS }));
      if (result.verdict !== "pass") throw new Error(`smoke run ${i} was ${result.verdict}: ${result.tiers[0]?.reason ?? ""}`);
      samples["smoke run"]!.push(smokeMs);
    } finally {
      await cluster.stop();
    }
  }
  process.stdout.write(`redis tier, ${runs} runs (ms)\n`);
  for (const [name, values] of Object.entries(samples)) {
    process.stdout.write(`  ${name.padEnd(24)} median ${quantile(values, 0.5).toFixed(1).padStart(7)}   p90 ${quantile(values, 0.9).toFixed(1).padStart(7)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
