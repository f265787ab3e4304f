/**
 * What the RabbitMQ tier costs on real rabbitmq-server nodes, from its own rendered configs:
 *
 *   npx tsx bench/rabbitmq-tier.ts [clusters] [smokes]     (default 2 clusters, 10 smoke runs each)
 *
 * Per cluster: the ci stage's 3-node cluster until formed with its definitions imported (node 0 alone,
 * then nodes 1 and 2 joining), then `smokes` smoke runs (runner + RabbitMQ probe) on the healthy
 * cluster, and one with the node behind `url` down (degraded). Prints medians and p90s. Never used as a
 * timed assertion in tests.
 */
import { parseStage } from "../components/stage.js";
import { parseEndpoints } from "../healthchecks/endpoints.js";
import { runSmoke } from "../healthchecks/runner.js";
import { startRabbitmqCluster } from "../test/harness/rabbitmq.js";
import { readStackFile } from "../tools/stack-file.js";
import { quantile, timed } from "./stats.js";

const DEFAULT_CLUSTERS = 2;
const DEFAULT_SMOKES = 10;
const SMOKE_DEADLINE_MS = 20 * 1000;

function positive(text: string | undefined, fallback: number): number {
  const value = Number(text ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  const clusters = positive(process.argv[2], DEFAULT_CLUSTERS);
  const smokes = positive(process.argv[3], DEFAULT_SMOKES);
  const ci = parseStage("ci", readStackFile("ci").stageConfig);
  const samples: Record<string, number[]> = { "form 3 nodes + defs": [], "smoke run (healthy)": [], "quorum round step": [], "smoke run (node 0 down)": [] };
  for (let c = 0; c < clusters; c++) {
    const [formMs, cluster] = await timed(() => startRabbitmqCluster({ stack: ci.name, settings: ci.rabbitmq, channels: ci.channels }));
    try {
      samples["form 3 nodes + defs"]!.push(formMs);
      const endpoints = parseEndpoints({ version: 1, stage: ci.name, rabbitmq: cluster.endpoint, channels: ci.channels.map((ch) => ({ name: ch.name, durable: ch.durable, consumerGroups: ch.consumerGroups })) });
      for (let i = 0; i < smokes; i++) {
        const [ms, result] = await timed(() => runSmoke({ endpoints, deadlineMs: SMOKE_DEADLINE_MS }));
        if (result.verdict !== "pass") throw new Error(`smoke run ${i} was ${result.verdict}: ${result.tiers[0]?.reason ?? ""}`);
        samples["smoke run (healthy)"]!.push(ms);
        samples["quorum round step"]!.push(result.tiers[0]?.steps.find((s) => s.name === "quorum-round")?.durationMs ?? Number.NaN);
      }
      await cluster.nodes[0]!.stop();
      const [ms, result] = await timed(() => runSmoke({ endpoints, deadlineMs: SMOKE_DEADLINE_MS }));
      if (result.verdict !== "degraded") throw new Error(`smoke run with node 0 down was ${result.verdict}: ${result.tiers[0]?.reason ?? ""}`);
      samples["smoke run (node 0 down)"]!.push(ms);
    } finally {
      await cluster.stop();
    }
  }
  process.stdout.write(`rabbitmq tier, ${clusters} clusters x ${smokes} smoke runs (ms)\n`);
  for (const [name, values] of Object.entries(samples)) {
    process.stdout.write(`  ${name.padEnd(26)} median ${quantile(values, 0.5).toFixed(1).padStart(8)}   p90 ${quantile(values, 0.9).toFixed(1).padStart(8)}   n=${values.length}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
