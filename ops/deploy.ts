/**
 * Deploy a stage: validate its stack file, select or create the stack, preview, update with live
 * output, then smoke-check the endpoints it exports. Each step runs only when the one before it
 * succeeded; the exit code says which failed.
 */
import { resolve } from "node:path";
import { StageValidationError } from "../components/errors/stage-validation-error.js";
import { parseStage, type Stage } from "../components/stage.js";
import { readCleanStackFile, StackFileError } from "../tools/stack-file.js";
import type { SmokeStep } from "./smoke-step.js";
import type { DeployWorkspace } from "./workspace.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface OpsIo {
  log: (line: string) => void;
  error: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export interface DeployOptions {
  /** Stack name; its settings are `stacks/Pulumi.<stack>.yaml`. */
  stack: string;
  /** @default "reports/<stack>" */
  reportsDir?: string;
  /** Skip the smoke step even when the stage enables it. */
  skipSmoke?: boolean;
}

export class OpsUsageError extends Error {
  override readonly name = "OpsUsageError";
}

/** The stage of a stack file, or an `OpsUsageError` listing every problem. */
export function loadStage(stack: string): Stage {
  try {
    const file = readCleanStackFile(stack);
    return parseStage(file.stack, file.stageConfig);
  } catch (error) {
    if (error instanceof StageValidationError || error instanceof StackFileError) throw new OpsUsageError(error.message);
    throw error;
  }
}

export function reportsDirOf(options: DeployOptions): string {
  return resolve(options.reportsDir ?? `reports/${options.stack}`);
}

/** Turns an Automation API error (which carries the CLI's stderr) into one line worth showing. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((l) => l.trim());
  const cliError = lines.map((l) => /\berror: .*/.exec(l)?.[0]).find((l) => l !== undefined);
  return cliError ?? lines.find((l) => l.length > 0 && !l.startsWith("code:")) ?? text;
}

export async function deployStage(options: DeployOptions, workspace: DeployWorkspace, smoke: SmokeStep, io: OpsIo): Promise<number> {
  const stage = loadStage(options.stack);
  // A stack file path names its stack by its file name.
  options = { ...options, stack: stage.name };
  const stack = await workspace.selectOrCreate(stage.name);
  io.log(`== preview ${stage.name} (${stage.target}: ${stage.tiers.join(", ") || "no tiers"})`);
  try {
    await stack.preview(io.log);
  } catch (error) {
    io.error(`preview of ${options.stack} failed: ${firstLine(error)}`);
    return EXIT_FAILED;
  }
  io.log(`== update ${options.stack}`);
  try {
    const result = await stack.up(io.log);
    if (result.result !== "succeeded") {
      io.error(`update of ${options.stack} ended ${result.result}`);
      return EXIT_FAILED;
    }
  } catch (error) {
    io.error(`update of ${options.stack} failed: ${firstLine(error)}`);
    return EXIT_FAILED;
  }
  return smokeAfterDeploy(stage, options, stack.outputs, smoke, io);
}

async function smokeAfterDeploy(stage: Stage, options: DeployOptions, outputs: () => Promise<Record<string, unknown>>, smoke: SmokeStep, io: OpsIo): Promise<number> {
  if (options.skipSmoke || !stage.smoke.enabled) {
    io.log(`== smoke skipped (${options.skipSmoke ? "--skip-smoke" : "smoke.enabled is false"})`);
    return EXIT_OK;
  }
  if (stage.tiers.length === 0) {
    io.log("== smoke skipped: the stage runs no broker tier");
    return EXIT_OK;
  }
  if (stage.target === "kubernetes") {
    // The brokers are reachable only inside the cluster: the smoke Job ran as part of the update.
    io.log("== smoke ran in the cluster as the update's smoke Job (a failed Job fails the update)");
    return EXIT_OK;
  }
  const endpoints = (await outputs()).endpoints;
  if (endpoints === undefined) {
    io.error(`stack ${options.stack} exports no \`endpoints\` output`);
    return EXIT_FAILED;
  }
  const reportsDir = reportsDirOf(options);
  io.log(`== smoke ${options.stack} (reports in ${reportsDir})`);
  const code = await smoke({
    endpoints,
    reportsDir,
    deadlineSeconds: stage.smoke.deadlineSeconds,
    strict: stage.smoke.strict,
    env: io.env,
    stdout: (text) => io.log(text.replace(/\n$/, "")),
    stderr: (text) => io.error(text.replace(/\n$/, "")),
  });
  if (code !== 0) io.error(`smoke of ${options.stack} failed (exit ${code})`);
  return code === 0 ? EXIT_OK : EXIT_FAILED;
}

/**
 * Destroys a stack's resources. It needs only the stack's state, not its stack file: an environment
 * created on another CI runner is destroyed from wherever `env gc` runs.
 */
export async function destroyStage(stackName: string, workspace: DeployWorkspace, io: OpsIo): Promise<number> {
  const stack = await workspace.select(stackName);
  if (!stack) {
    io.log(`stack ${stackName} does not exist: nothing to destroy`);
    return EXIT_OK;
  }
  io.log(`== destroy ${stackName}`);
  try {
    const result = await stack.destroy(io.log);
    if (result.result !== "succeeded") {
      io.error(`destroy of ${stackName} ended ${result.result}`);
      return EXIT_FAILED;
    }
  } catch (error) {
    io.error(`destroy of ${stackName} failed: ${firstLine(error)}`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}
