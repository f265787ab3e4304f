/**
 * The Docker e2e replay by hand:
 *   node --import tsx ops/replay/cli.ts up   --stage ci [--endpoints <file>]   replay the stage's plan
 *   node --import tsx ops/replay/cli.ts down --stage ci                          remove it (by label)
 * `up` tears down what it created when it fails. `--endpoints` writes the stage's endpoints (with
 * secret values, mode 0600) for `npx tsx healthchecks/cli.ts --endpoints <file>`.
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { Command } from "commander";
import { DockerEngine } from "../docker-engine/client.js";
import { readBuiltImages } from "../e2e-images/build.js";
import { applyReplay } from "./apply.js";
import { loadStage, testImageResolver } from "./load.js";
import { teardownStage } from "./teardown.js";
import { translatePlan } from "./translate.js";

/** The stack name of a stage argument: `ci`, or `ci-e2e2` for `/tmp/x/Pulumi.ci-e2e2.yaml`. */
export function stackNameOf(stage: string): string {
  const file = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(stage));
  return file?.[1] ?? stage;
}

async function up(stage: string, endpointsFile: string | undefined): Promise<void> {
  const engine = new DockerEngine();
  const loaded = await loadStage(stage);
  const steps = translatePlan(loaded.resources, testImageResolver(readBuiltImages()));
  try {
    const result = await applyReplay(engine, steps, { log: (line) => process.stderr.write(`[replay] ${line}\n`) });
    process.stderr.write(`[replay] ${Object.keys(result.containers).length} containers in ${(Math.max(...Object.values(result.finishedAtMs)) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    await teardownStage(engine, stackNameOf(stage));
    throw err;
  }
  if (endpointsFile !== undefined) writeFileSync(endpointsFile, `${JSON.stringify(loaded.outputs.endpoints, null, 2)}\n`, { mode: 0o600 });
}

async function down(stage: string): Promise<void> {
  const removed = await teardownStage(new DockerEngine(), stackNameOf(stage));
  process.stderr.write(`[replay] removed ${removed.containers.length} containers, ${removed.networks.length} networks, ${removed.volumes.length} volumes\n`);
}

const program = new Command("replay").description("Replay a Docker stage's plan on the local Docker Engine with the e2e test images.");
program.command("up").requiredOption("--stage <name|path>").option("--endpoints <file>").action((o: { stage: string; endpoints?: string }) => up(o.stage, o.endpoints));
program.command("down").requiredOption("--stage <name|path>").action((o: { stage: string }) => down(o.stage));
program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
