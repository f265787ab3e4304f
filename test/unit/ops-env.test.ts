/** CI environments against an injected workspace, with stack files in a temp copy of stacks/. */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStage } from "../../components/stage.js";
import { publishedPortRanges } from "../../components/stage-host-ports.js";
import { OpsUsageError, type OpsIo } from "../../ops/deploy.js";
import { envCreate, envDestroy, envGc, envOutput, type EnvContext } from "../../ops/env/commands.js";
import { endpointsToEnv, renderDotenv } from "../../ops/env/dotenv.js";
import { envStackName, validateEnvName } from "../../ops/env/names.js";
import { isExpired, parseTtl, TAG_EXPIRES_AT, TAG_TEMPLATE } from "../../ops/env/ttl.js";
import { readStackFile } from "../../tools/stack-file.js";
import { FakeWorkspace } from "../harness/fake-workspace.js";

const NOW = new Date("2026-12-03T12:00:00.000Z");
let stacksDir: string;
let workspace: FakeWorkspace;
let smokeCalls: number;

beforeEach(() => {
  stacksDir = mkdtempSync(join(tmpdir(), "bp-stacks-"));
  cpSync(resolve(__dirname, "..", "..", "stacks"), stacksDir, { recursive: true });
  process.env.BOTPLATFORM_STACKS_DIR = stacksDir;
  workspace = new FakeWorkspace();
  workspace.defaultBehaviour = { outputs: { endpoints: { version: 1, stage: "env", channels: [] } } };
  smokeCalls = 0;
});

afterEach(() => {
  delete process.env.BOTPLATFORM_STACKS_DIR;
  rmSync(stacksDir, { recursive: true, force: true });
});

function context(now = NOW): EnvContext & { errors: string[] } {
  const errors: string[] = [];
  const io: OpsIo = { log: () => undefined, error: (l) => errors.push(l), env: {} };
  return { workspace, io, now: () => now, errors, smoke: async () => (smokeCalls++, 0) };
}

function envStage(name: string) {
  const file = readStackFile(envStackName(name));
  return parseStage(file.stack, file.stageConfig);
}

describe("env names and TTLs", () => {
  it.each(["pr-42", "a", "feature-x1"])("accepts %s", (name) => expect(validateEnvName(name)).toBe(name));
  it.each(["PR-42", "-x", "x-", "42", "a_b", "a".repeat(31), ""])("rejects %j naming --name", (name) => {
    expect(() => validateEnvName(name)).toThrowError(/`--name`/);
  });
  it.each([["90m", 90 * 60_000], ["24h", 86_400_000], ["7d", 7 * 86_400_000]])("parses %s", (value, ms) => expect(parseTtl(value)).toBe(ms));
  it.each(["0h", "24", "1w", "31d", "-1h"])("rejects ttl %s naming --ttl", (value) => expect(() => parseTtl(value)).toThrowError(/`--ttl`/));
  it("expires exactly at the tag's time; a missing or unreadable tag never expires", () => {
    expect(isExpired({ [TAG_EXPIRES_AT]: "2026-12-03T12:00:00.000Z" }, NOW)).toBe(true);
    expect(isExpired({ [TAG_EXPIRES_AT]: "2026-12-03T12:00:00.001Z" }, NOW)).toBe(false);
    expect(isExpired({}, NOW)).toBe(false);
    expect(isExpired({ [TAG_EXPIRES_AT]: "soon" }, NOW)).toBe(false);
  });
});

describe("env create", () => {
  it("writes the environment's stack file into the stacks dir, tags the stack, then deploys and smokes it", async () => {
    const ctx = context();
    expect(await envCreate(ctx, { name: "pr-1", from: "ci", ttl: "24h" })).toBe(0);
    expect(existsSync(join(stacksDir, "Pulumi.env-pr-1.yaml"))).toBe(true);
    expect(workspace.calls).toEqual([
      "create env-pr-1", "select env-pr-1", "tag env-pr-1 botplatform:expires-at", "tag env-pr-1 botplatform:template",
      "select env-pr-1", "preview env-pr-1", "up env-pr-1", "outputs env-pr-1",
    ]);
    expect(workspace.stacks.get("env-pr-1")!.tags).toEqual({ [TAG_EXPIRES_AT]: "2026-12-04T12:00:00.000Z", [TAG_TEMPLATE]: "ci" });
  });

  it("gives side-by-side environments distinct host ports, none overlapping the template's", async () => {
    await envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" });
    await envCreate(context(), { name: "pr-2", from: "ci", ttl: "1h" });
    const template = readStackFile("ci");
    const stages = [parseStage("ci", template.stageConfig), envStage("pr-1"), envStage("pr-2")];
    const ranges = stages.flatMap((s) => publishedPortRanges(s).map((r) => ({ ...r, stage: s.name })));
    for (const a of ranges) {
      for (const b of ranges) {
        if (a.stage === b.stage) continue;
        const overlap = a.first <= b.first + b.count - 1 && b.first <= a.first + a.count - 1;
        expect(overlap, `${a.stage} ${a.path} vs ${b.stage} ${b.path}`).toBe(false);
      }
    }
    // Everything else is the template's.
    const withoutPorts = (s: ReturnType<typeof envStage>) => ({ ...s, name: "-", kubernetes: undefined, redis: undefined, nats: undefined, kafka: undefined, rabbitmq: undefined });
    expect(withoutPorts(envStage("pr-1"))).toEqual(withoutPorts(stages[0]!));
    expect(smokeCalls).toBe(2);
    expect(envStage("pr-1").nats!.nodes).toBe(3);
  });

  it("gives a Kubernetes environment its own namespace", async () => {
    await envCreate(context(), { name: "stg-copy", from: "staging", ttl: "1h" });
    expect(envStage("stg-copy").kubernetes.namespace).toBe("botplatform-env-stg-copy");
  });

  it("keeps the template's secrets provider settings in the environment's file", async () => {
    await envCreate(context(), { name: "pr-3", from: "ci", ttl: "1h" });
    const doc = parse(readFileSync(join(stacksDir, "Pulumi.env-pr-3.yaml"), "utf8"));
    expect(Object.keys(doc)).toEqual(Object.keys(parse(readFileSync(join(stacksDir, "Pulumi.ci.yaml"), "utf8"))));
  });

  it("refuses an existing environment, a bad template or a bad name, touching nothing", async () => {
    await envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" });
    const before = readdirSync(stacksDir).sort();
    const calls = workspace.calls.length;
    await expect(envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" })).rejects.toThrowError(/exists already/);
    await expect(envCreate(context(), { name: "pr-9", from: "nope", ttl: "1h" })).rejects.toThrowError(OpsUsageError);
    await expect(envCreate(context(), { name: "Bad", from: "ci", ttl: "1h" })).rejects.toThrowError(/`--name`/);
    await expect(envCreate(context(), { name: "pr-9", from: "ci", ttl: "forever" })).rejects.toThrowError(/`--ttl`/);
    expect(readdirSync(stacksDir).sort()).toEqual(before);
    expect(workspace.calls.length).toBe(calls);
  });
});

describe("env output", () => {
  const endpoints = {
    version: 1,
    stage: "env-pr-1",
    redis: { url: "redis://default:p'w@127.0.0.1:6389/0", replicas: 1 },
    nats: { servers: ["nats://127.0.0.1:4232", "nats://127.0.0.1:4233"], user: "bus", password: "n", clusterSize: 3 },
    kafka: { brokers: ["127.0.0.1:19102", "127.0.0.1:19103"], clusterSize: 3, sasl: { mechanism: "scram-sha-512", username: "bus", password: "k" } },
    rabbitmq: { url: "amqp://bus:r@127.0.0.1:5682/botplatform", managementUrl: "http://127.0.0.1:15682", clusterSize: 3 },
    channels: [],
  };

  it("maps the endpoints onto the usual variables", () => {
    expect(endpointsToEnv(endpoints)).toEqual({
      BOTPLATFORM_STAGE: "env-pr-1",
      REDIS_URL: "redis://default:p'w@127.0.0.1:6389/0",
      NATS_URL: "nats://127.0.0.1:4232,nats://127.0.0.1:4233",
      NATS_USER: "bus",
      NATS_PASSWORD: "n",
      KAFKA_BROKERS: "127.0.0.1:19102,127.0.0.1:19103",
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "bus",
      KAFKA_SASL_PASSWORD: "k",
      AMQP_URL: "amqp://bus:r@127.0.0.1:5682/botplatform",
      RABBITMQ_MANAGEMENT_URL: "http://127.0.0.1:15682",
    });
  });

  it("prints dotenv that a shell reads back exactly, and JSON", async () => {
    await workspace.selectOrCreate("env-pr-1");
    workspace.behaviour["env-pr-1"] = { outputs: { endpoints } };
    const dotenv = await envOutput(context(), { name: "pr-1", format: "dotenv" });
    expect(dotenv.code).toBe(0);
    expect(dotenv.text).toContain(`REDIS_URL='redis://default:p'\\''w@127.0.0.1:6389/0'`);
    const file = join(stacksDir, "app.env");
    writeFileSync(file, dotenv.text);
    const echoed = execFileSync("bash", ["-c", `set -a; source "$0"; printf %s "$REDIS_URL"`, file]).toString();
    expect(echoed).toBe("redis://default:p'w@127.0.0.1:6389/0");
    const json = await envOutput(context(), { name: "pr-1", format: "json" });
    expect(JSON.parse(json.text)).toEqual(endpoints);
  });

  it("names a missing environment", async () => {
    await expect(envOutput(context(), { name: "pr-404", format: "json" })).rejects.toThrowError(/no environment `pr-404`/);
  });

  it("renders an empty environment as no variables beyond the stage", () => {
    expect(renderDotenv(endpointsToEnv({ version: 1, stage: "x", channels: [] }))).toBe("BOTPLATFORM_STAGE='x'\n");
  });
});

describe("env destroy and gc", () => {
  it("destroys the resources, removes the stack and its stack file", async () => {
    await envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" });
    expect(await envDestroy(context(), { name: "pr-1" })).toBe(0);
    expect(workspace.calls.slice(-2)).toEqual(["destroy env-pr-1", "remove env-pr-1"]);
    expect(existsSync(join(stacksDir, "Pulumi.env-pr-1.yaml"))).toBe(false);
  });

  it("destroys an environment whose stack file is on another runner (state is enough)", async () => {
    await envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" });
    rmSync(join(stacksDir, "Pulumi.env-pr-1.yaml"));
    expect(await envDestroy(context(), { name: "pr-1" })).toBe(0);
    expect(workspace.stacks.has("env-pr-1")).toBe(false);
  });

  it("keeps the stack when its destroy fails", async () => {
    await envCreate(context(), { name: "pr-1", from: "ci", ttl: "1h" });
    workspace.behaviour["env-pr-1"] = { destroy: { result: "failed" } };
    expect(await envDestroy(context(), { name: "pr-1" })).toBe(1);
    expect(workspace.stacks.has("env-pr-1")).toBe(true);
    expect(existsSync(join(stacksDir, "Pulumi.env-pr-1.yaml"))).toBe(true);
  });

  it("gc destroys only expired environments, never stages or untagged stacks, and goes on after a failure", async () => {
    await envCreate(context(), { name: "old-1", from: "ci", ttl: "1h" });
    await envCreate(context(), { name: "old-2", from: "ci", ttl: "2h" });
    await envCreate(context(), { name: "fresh", from: "ci", ttl: "7d" });
    await workspace.selectOrCreate("ci");
    await workspace.selectOrCreate("env-untagged");
    workspace.behaviour["env-old-1"] = { destroy: new Error("error: busy") };
    const later = new Date(NOW.getTime() + 3 * 3600 * 1000);
    const dry = context(later);
    expect(await envGc(dry, { dryRun: true })).toBe(0);
    expect(workspace.calls.filter((c) => c.startsWith("destroy"))).toEqual([]);
    expect(await envGc(context(later), { dryRun: false })).toBe(1);
    expect(workspace.calls.filter((c) => c.startsWith("destroy"))).toEqual(["destroy env-old-1", "destroy env-old-2"]);
    expect([...workspace.stacks.keys()].sort()).toEqual(["ci", "env-fresh", "env-old-1", "env-untagged"]);
  });
});
