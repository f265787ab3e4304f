/**
 * Runs `tools/plan.ts` (the real program under Pulumi's mocks) in a child process per stage: Pulumi's
 * runtime is process-global, so one process per capture keeps stages from bleeding into each other.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { PlannedResource } from "../../tools/plan/capture.js";

const run = promisify(execFile);
export const REPO_ROOT = resolve(__dirname, "..", "..");

export interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a repo tool (`tools/plan.ts`, `tools/validate.ts`, ...) with the same Node and tsx. */
export async function runTool(tool: string, args: string[]): Promise<PlanRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, tool), ...args], {
      cwd: REPO_ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The plan of a stage (name in stacks/ or a stack file path) as JSON; throws with stderr on failure. */
export async function planStage(stageOrPath: string): Promise<PlannedResource[]> {
  const result = await runTool("tools/plan.ts", ["--stage", stageOrPath, "--format", "json"]);
  if (result.code !== 0) throw new Error(`plan of ${stageOrPath} failed (exit ${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as PlannedResource[];
}

/** Writes a throw-away stack file `Pulumi.<stack>.yaml` with the given project settings. */
export function writeStackFile(stack: string, settings: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "bp-stack-"));
  const path = join(dir, `Pulumi.${stack}.yaml`);
  const config = Object.fromEntries(Object.entries(settings).map(([key, value]) => [key.includes(":") ? key : `botplatform-brokers:${key}`, value]));
  writeFileSync(path, stringify({ config }));
  return path;
}

export function ofType(plan: PlannedResource[], type: string): PlannedResource[] {
  return plan.filter((r) => r.type === type);
}
