/** `npm run env -- create|output|destroy|gc`: per-branch CI environments. */
import { Option } from "commander";
import { loadStage } from "../deploy.js";
import { envCreate, envDestroy, envGc, envOutput, type EnvContext } from "../env/commands.js";
import { validateEnvName } from "../env/names.js";
import { DEFAULT_TTL, parseTtl } from "../env/ttl.js";
import { runSmokeStep } from "../smoke-step.js";
import { opsProgram, processIo, realWorkspace, runCli, setExitCode } from "./run.js";

async function context(): Promise<EnvContext> {
  return { workspace: await realWorkspace(processIo), smoke: runSmokeStep, io: processIo, now: () => new Date() };
}

const program = opsProgram("env").description(
  "Throw-away environments for CI, made from a template stage. Every container, network, volume and namespace carries the environment's name.\nExit codes: 0 ok; 1 an update, smoke or destroy failed; 2 bad usage.",
);

program
  .command("create")
  .description("create an environment from a template stage, deploy it and smoke-check it")
  .requiredOption("--name <id>", "environment name, e.g. pr-42 (stack env-<id>)")
  .requiredOption("--from <stage>", "template stage in stacks/, e.g. ci")
  .option("--ttl <duration>", "lifetime before `env gc` destroys it (e.g. 90m, 24h, 7d)", DEFAULT_TTL)
  .option("--reports <dir>", "smoke reports directory (default: reports/env-<id>)")
  .action(async (options: { name: string; from: string; ttl: string; reports?: string }) => {
    validateEnvName(options.name);
    parseTtl(options.ttl);
    loadStage(options.from);
    setExitCode(program, await envCreate(await context(), { ...options, reportsDir: options.reports }));
  });

program
  .command("output")
  .description("print the environment's endpoints for the app's tests (contains secrets: redirect to a file)")
  .requiredOption("--name <id>", "environment name")
  .addOption(new Option("--format <format>", "json (the endpoints contract) or dotenv (REDIS_URL, NATS_URL, KAFKA_BROKERS, AMQP_URL, ...)").choices(["json", "dotenv"]).default("dotenv"))
  .action(async (options: { name: string; format: "json" | "dotenv" }) => {
    validateEnvName(options.name);
    const { code, text } = await envOutput(await context(), options);
    process.stdout.write(text);
    setExitCode(program, code);
  });

program
  .command("destroy")
  .description("destroy the environment, remove its stack and stack file")
  .requiredOption("--name <id>", "environment name")
  .action(async (options: { name: string }) => {
    validateEnvName(options.name);
    setExitCode(program, await envDestroy(await context(), options));
  });

program
  .command("gc")
  .description("destroy every environment past its TTL (the botplatform:expires-at stack tag)")
  .option("--dry-run", "only list what would be destroyed", false)
  .action(async (options: { dryRun: boolean }) => {
    setExitCode(program, await envGc(await context(), options));
  });

void runCli(program, process.argv);
