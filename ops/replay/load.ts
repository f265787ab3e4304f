/**
 * Loads what the replay needs from the real program under Pulumi's mocks, one child process per
 * capture (Pulumi's runtime is process-global): the resources with their secret values
 * (`tools/plan.ts --format json --show-secrets`) and the stack outputs the program exports, among
 * them `endpoints` (`--outputs --show-secrets`). Secrets are the mocks' values: the config's
 * `plan-secret-<key>` placeholders or the generated `plan-generated-<name>` passwords.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { contractOf } from "../../components/targets/image-contract.js";
import type { PlannedResource } from "../../tools/plan/capture.js";
import type { BuiltImages } from "../e2e-images/build.js";
import { ReplayError } from "./inputs.js";
import type { ImageResolver } from "./translate.js";

const run = promisify(execFile);
const REPO_ROOT = resolve(__dirname, "..", "..");

export interface LoadedStage {
  resources: PlannedResource[];
  outputs: { endpoints?: unknown; [key: string]: unknown };
}

async function planTool(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "tools", "plan.ts"), ...args], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const failed = err as { stderr?: string; message: string };
    throw new ReplayError(`tools/plan.ts ${args.join(" ")} failed: ${(failed.stderr ?? failed.message).trim()}`);
  }
}

/** `stage`: a name in stacks/ or a stack file path. */
export async function loadStage(stage: string): Promise<LoadedStage> {
  const [resources, outputs] = await Promise.all([
    planTool(["--stage", stage, "--format", "json", "--show-secrets"]),
    planTool(["--stage", stage, "--outputs", "--show-secrets"]),
  ]);
  return { resources: JSON.parse(resources) as PlannedResource[], outputs: JSON.parse(outputs) as LoadedStage["outputs"] };
}

/** Swaps each image of the plan for the local test image of its contract (any tag of the repository). */
export function testImageResolver(built: BuiltImages): ImageResolver {
  return (image) => {
    const key = contractOf(image);
    if (key === undefined) throw new ReplayError(`image ${image} has no entry in the image contract (components/targets/image-contract.ts), so there is no test image for it`);
    return built.images[key];
  };
}
