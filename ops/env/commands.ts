/** `env create|output|destroy|gc`: per-branch CI environments made from a template stage. */
import { deployStage, destroyStage, EXIT_FAILED, EXIT_OK, firstLine, loadStage, OpsUsageError, type OpsIo } from "../deploy.js";
import type { SmokeStep } from "../smoke-step.js";
import type { DeployWorkspace } from "../workspace.js";
import { endpointsToEnv, renderDotenv } from "./dotenv.js";
import { envStackName, isEnvStack } from "./names.js";
import { removeEnvStackFile, writeEnvStackFile } from "./stack-files.js";
import { expiresAt, isExpired, parseTtl, TAG_EXPIRES_AT, TAG_TEMPLATE } from "./ttl.js";

export interface EnvContext {
  workspace: DeployWorkspace;
  smoke: SmokeStep;
  io: OpsIo;
  now: () => Date;
}

export async function envCreate(ctx: EnvContext, args: { name: string; from: string; ttl: string; reportsDir?: string }): Promise<number> {
  const stack = envStackName(args.name);
  const ttlMs = parseTtl(args.ttl);
  loadStage(args.from);
  if (await ctx.workspace.select(stack)) throw new OpsUsageError(`environment \`${args.name}\` exists already (stack ${stack})`);
  const { path, stage } = writeEnvStackFile(args.from, stack);
  ctx.io.log(`created ${path} from ${args.from} (${stage.target})`);
  const handle = await ctx.workspace.selectOrCreate(stack);
  // Tags first: an environment whose update fails is still found and collected by `env gc`.
  await handle.setTag(TAG_EXPIRES_AT, expiresAt(ctx.now(), ttlMs));
  await handle.setTag(TAG_TEMPLATE, args.from);
  return deployStage({ stack, reportsDir: args.reportsDir }, ctx.workspace, ctx.smoke, ctx.io);
}

export async function envOutput(ctx: EnvContext, args: { name: string; format: "json" | "dotenv" }): Promise<{ code: number; text: string }> {
  const stack = envStackName(args.name);
  const handle = await ctx.workspace.select(stack);
  if (!handle) throw new OpsUsageError(`no environment \`${args.name}\` (stack ${stack})`);
  const endpoints = (await handle.outputs()).endpoints as Record<string, unknown> | undefined;
  if (!endpoints) {
    ctx.io.error(`environment \`${args.name}\` exports no endpoints (was its update successful?)`);
    return { code: EXIT_FAILED, text: "" };
  }
  const text = args.format === "json" ? JSON.stringify(endpoints, null, 2) + "\n" : renderDotenv(endpointsToEnv(endpoints));
  return { code: EXIT_OK, text };
}

export async function envDestroy(ctx: EnvContext, args: { name: string }): Promise<number> {
  const stack = envStackName(args.name);
  return destroyEnvStack(ctx, stack);
}

async function destroyEnvStack(ctx: EnvContext, stack: string): Promise<number> {
  const code = await destroyStage(stack, ctx.workspace, ctx.io);
  if (code !== EXIT_OK) return code;
  try {
    if (await ctx.workspace.select(stack)) await ctx.workspace.removeStack(stack);
  } catch (error) {
    ctx.io.error(`removing stack ${stack} failed: ${firstLine(error)}`);
    return EXIT_FAILED;
  }
  removeEnvStackFile(stack);
  ctx.io.log(`destroyed ${stack}`);
  return EXIT_OK;
}

/** Destroys every environment past its TTL; one failure does not stop the others. */
export async function envGc(ctx: EnvContext, args: { dryRun: boolean }): Promise<number> {
  const now = ctx.now();
  const stacks = (await ctx.workspace.listStacks()).map((s) => s.name).filter(isEnvStack).sort();
  let failed = 0;
  for (const stack of stacks) {
    const handle = await ctx.workspace.select(stack);
    if (!handle || !isExpired(await handle.tags(), now)) continue;
    ctx.io.log(`${args.dryRun ? "would destroy" : "destroying"} ${stack} (expired)`);
    if (!args.dryRun && (await destroyEnvStack(ctx, stack)) !== EXIT_OK) failed++;
  }
  return failed === 0 ? EXIT_OK : EXIT_FAILED;
}
