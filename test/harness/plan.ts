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
import { parseStage, type Stage, type TierName } from "../../components/stage.js";
import type { PlannedResource } from "../../tools/plan/capture.js";
import { readStackFile } from "../../tools/stack-file.js";

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

/** A stack file and its parsed stage, for the tiers' plan tests. */
export interface TestStack {
  path: string;
  stage: Stage;
  /** Whether the stack file gives its secrets (else the platform generates them). */
  given: boolean;
}

/** A shipped stage reduced to one tier (same stack name, target and channels); `extra` overrides. */
export function tierOnlyStack(stage: string, tier: TierName, extra: Record<string, unknown> = {}): TestStack {
  const { stageConfig } = readStackFile(stage);
  const keep = ["environment", "target", "docker", "kubernetes", tier, "channels", "smoke"];
  const settings = { ...Object.fromEntries(Object.entries(stageConfig).filter(([k]) => keep.includes(k))), tiers: [tier], ...extra };
  return { path: writeStackFile(stage, settings), stage: parseStage(stage, settings), given: false };
}

/** A throw-away stack file with the given settings and `secure:` secrets. */
export function customStack(stack: string, settings: Record<string, unknown>, secure: Record<string, string> = {}): TestStack {
  const secrets = Object.fromEntries(Object.entries(secure).map(([k, v]) => [k, { secure: v }]));
  return { path: writeStackFile(stack, { ...settings, ...secrets }), stage: parseStage(stack, settings), given: Object.keys(secure).length > 0 };
}
