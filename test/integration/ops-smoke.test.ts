/** The deploy's smoke step for real: an injected workspace hands over endpoints of a real Redis. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployStage, type OpsIo } from "../../ops/deploy.js";
import { runSmokeStep, smokeReportPaths } from "../../ops/smoke-step.js";
import { FakeWorkspace } from "../harness/fake-workspace.js";
import { writeStackFile } from "../harness/plan.js";
import { freePort } from "../harness/ports.js";
import { startRedis, type RedisServer } from "../harness/redis.js";

const PASSWORD = "ops-smoke-Secret-9f3b";
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD, name: "ops-smoke" });
});
afterAll(async () => {
  await redis?.stop();
});

function io(): OpsIo & { text: () => string } {
  const out: string[] = [];
  return { log: (l) => out.push(l), error: (l) => out.push(l), env: {}, text: () => out.join("\n") };
}

const stage = () => writeStackFile("opsdev", { environment: "dev", target: "docker", tiers: ["redis"], channels: [], smoke: { deadlineSeconds: 10 } });

describe("deploy's smoke step against a real Redis", () => {
  it("passes, writes JSON, JUnit and markdown reports, and never prints the password", async () => {
    const workspace = new FakeWorkspace();
    workspace.defaultBehaviour = { outputs: { endpoints: { version: 1, stage: "opsdev", redis: { url: redis.url, replicas: 0 }, channels: [] } } };
    const reportsDir = mkdtempSync(join(tmpdir(), "bp-reports-"));
    const output = io();
    expect(await deployStage({ stack: stage(), reportsDir }, workspace, runSmokeStep, output)).toBe(0);
    const paths = smokeReportPaths(reportsDir);
    const json = JSON.parse(readFileSync(paths.json, "utf8"));
    expect(json.verdict).toBe("pass");
    expect(json.tiers.map((t: { tier: string }) => t.tier)).toEqual(["redis"]);
    const junit = readFileSync(paths.junit, "utf8");
    expect(junit).toMatch(/<testsuite [^>]*name="redis"/);
    const markdown = readFileSync(paths.summary, "utf8");
    expect(markdown).toContain("redis");
    for (const text of [output.text(), JSON.stringify(json), junit, markdown]) expect(text).not.toContain(PASSWORD);
  });

  it("appends the summary to $GITHUB_STEP_SUMMARY when set", async () => {
    const workspace = new FakeWorkspace();
    workspace.defaultBehaviour = { outputs: { endpoints: { version: 1, stage: "opsdev", redis: { url: redis.url, replicas: 0 }, channels: [] } } };
    const summary = join(mkdtempSync(join(tmpdir(), "bp-gh-")), "summary.md");
    writeFileSync(summary, "# earlier step\n");
    const output = { ...io(), env: { GITHUB_STEP_SUMMARY: summary } };
    expect(await deployStage({ stack: stage(), reportsDir: mkdtempSync(join(tmpdir(), "bp-reports-")) }, workspace, runSmokeStep, output)).toBe(0);
    const text = readFileSync(summary, "utf8");
    expect(text.startsWith("# earlier step\n")).toBe(true);
    expect(text).toContain("redis");
  });

  it("exits 1 when the endpoints point at a dead Redis, within the stage's deadline", async () => {
    const workspace = new FakeWorkspace();
    const deadPort = await freePort();
    workspace.defaultBehaviour = { outputs: { endpoints: { version: 1, stage: "opsdev", redis: { url: `redis://default:${PASSWORD}@127.0.0.1:${deadPort}/0`, replicas: 0 }, channels: [] } } };
    const reportsDir = mkdtempSync(join(tmpdir(), "bp-reports-"));
    const output = io();
    const started = Date.now();
    expect(await deployStage({ stack: stage(), reportsDir }, workspace, runSmokeStep, output)).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(JSON.parse(readFileSync(smokeReportPaths(reportsDir).json, "utf8")).verdict).toBe("fail");
    expect(output.text()).not.toContain(PASSWORD);
    expect(output.text()).toContain("smoke of opsdev failed (exit 1)");
  });
});
