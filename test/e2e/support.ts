/**
 * What the Docker e2e suite needs around the replay: a second environment's stack file (a copy of a
 * stage with other host ports), the smoke CLI run as a child process with its JSON report, container
 * state from the engine, and stopping nodes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import type { DockerEngine } from "../../ops/docker-engine/client.js";

const run = promisify(execFile);
export const REPO_ROOT = resolve(__dirname, "..", "..");
const PREFIX = "botplatform-brokers:";

/** Host ports for a second environment beside `ci`: below the ephemeral range, clear of every default. */
export const SECOND_ENV_PORTS = {
  redis: { hostPort: 21379 },
  nats: { hostPorts: { client: 21422, monitor: 21822 } },
  kafka: { hostPort: 21092 },
  rabbitmq: { hostPorts: { amqp: 21672, management: 21772 } },
} as const;

/** Writes `Pulumi.<stack>.yaml` to a temp dir: `stacks/Pulumi.<from>.yaml` with the tiers' host ports replaced. */
export function copyStageWithPorts(from: string, stack: string, ports: Readonly<Record<string, object>>): string {
  const document = parse(readFileSync(join(REPO_ROOT, "stacks", `Pulumi.${from}.yaml`), "utf8")) as { config: Record<string, unknown> };
  for (const [tier, override] of Object.entries(ports)) {
    const key = `${PREFIX}${tier}`;
    if (document.config[key] === undefined) continue;
    document.config[key] = { ...(document.config[key] as object), ...override };
  }
  const path = join(mkdtempSync(join(tmpdir(), "bp-e2e-stack-")), `Pulumi.${stack}.yaml`);
  writeFileSync(path, stringify(document));
  return path;
}

export interface SmokeTier {
  tier: string;
  verdict: "pass" | "degraded" | "fail";
  reason?: string;
}

export interface SmokeRun {
  code: number;
  verdict: "pass" | "degraded" | "fail";
  tiers: SmokeTier[];
  durationMs: number;
  output: string;
}

/** `npx tsx healthchecks/cli.ts --endpoints <file> --json <report>`, as CI would run it. */
export async function runSmoke(endpointsFile: string, reportFile: string): Promise<SmokeRun> {
  let code = 0;
  let output = "";
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "healthchecks", "cli.ts"), "--endpoints", endpointsFile, "--json", reportFile], {
      cwd: REPO_ROOT,
      env: { ...process.env, CI: "true" },
      maxBuffer: 16 * 1024 * 1024,
    });
    output = stdout + stderr;
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    code = typeof failed.code === "number" ? failed.code : 1;
    output = (failed.stdout ?? "") + (failed.stderr ?? "");
  }
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as { verdict: SmokeRun["verdict"]; tiers: SmokeTier[]; durationMs: number };
  return { code, verdict: report.verdict, tiers: report.tiers.map((t) => ({ tier: t.tier, verdict: t.verdict, reason: t.reason })), durationMs: report.durationMs, output };
}

export function verdicts(smoke: SmokeRun): Record<string, string> {
  return Object.fromEntries(smoke.tiers.map((t) => [t.tier, t.verdict]));
}

export interface ContainerState {
  status: string;
  health?: string;
  exitCode: number;
  labels: Record<string, string>;
  networks: string[];
}

export async function inspectContainer(engine: DockerEngine, name: string): Promise<ContainerState> {
  const info = await engine.json<{
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
    Config: { Labels: Record<string, string> | null };
    NetworkSettings: { Networks: Record<string, unknown> };
  }>({ method: "GET", path: `/containers/${encodeURIComponent(name)}/json` });
  return {
    status: info.State.Status,
    health: info.State.Health?.Status,
    exitCode: info.State.ExitCode,
    labels: info.Config.Labels ?? {},
    networks: Object.keys(info.NetworkSettings.Networks).sort(),
  };
}

/** `docker stop`: the container's own stop signal and timeout (NATS lame duck, Kafka controlled shutdown). */
export async function stopContainer(engine: DockerEngine, name: string): Promise<void> {
  await engine.call({ method: "POST", path: `/containers/${encodeURIComponent(name)}/stop`, timeoutMs: 180_000 });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
