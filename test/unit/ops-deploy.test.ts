/** The deploy orchestration against an injected workspace: ordering, exit codes, smoke hand-off. */
import { describe, expect, it } from "vitest";
import { deployStage, destroyStage, OpsUsageError, type OpsIo } from "../../ops/deploy.js";
import { PINNED_PULUMI_VERSION, PULUMI_CACHE_DIR, pulumiCommand } from "../../ops/pulumi-cli.js";
import type { SmokeStep, SmokeStepOptions } from "../../ops/smoke-step.js";
import { FakeWorkspace } from "../harness/fake-workspace.js";
import { writeStackFile } from "../harness/plan.js";

function recordingIo(): OpsIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, log: (l) => lines.push(l), error: (l) => errors.push(l), env: {} };
}

function fakeSmoke(code: number, seen: SmokeStepOptions[] = []): SmokeStep {
  return async (options) => {
    seen.push(options);
    return code;
  };
}

const ENDPOINTS = { version: 1, stage: "dev", redis: { url: "redis://127.0.0.1:6379/0", replicas: 0 } };

describe("deployStage", () => {
  it("previews, updates, reads the outputs, then smoke-checks them with the stage's deadline", async () => {
    const workspace = new FakeWorkspace();
    workspace.behaviour.dev = { outputs: { endpoints: ENDPOINTS } };
    const seen: SmokeStepOptions[] = [];
    const code = await deployStage({ stack: "dev", reportsDir: "/tmp/r" }, workspace, fakeSmoke(0, seen), recordingIo());
    expect(code).toBe(0);
    expect(workspace.calls).toEqual(["create dev", "select dev", "preview dev", "up dev", "outputs dev"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ endpoints: ENDPOINTS, reportsDir: "/tmp/r", deadlineSeconds: 180, strict: false });
  });

  it.each([
    ["preview fails", { previewFails: true }, ["preview dev"], /preview of dev failed: error: preview of dev failed: boom/],
    ["update throws", { up: new Error("code: 255\nerror: update failed: docker daemon not reachable") }, ["preview dev", "up dev"], /update of dev failed: error: update failed/],
    ["update ends failed", { up: { result: "failed" } }, ["preview dev", "up dev"], /update of dev ended failed/],
  ])("exits 1 and stops when the %s", async (_label, behaviour, ops, message) => {
    const workspace = new FakeWorkspace();
    workspace.behaviour.dev = behaviour;
    const io = recordingIo();
    const seen: SmokeStepOptions[] = [];
    expect(await deployStage({ stack: "dev" }, workspace, fakeSmoke(0, seen), io)).toBe(1);
    expect(workspace.calls.filter((c) => !c.startsWith("create") && !c.startsWith("select"))).toEqual(ops);
    expect(seen).toHaveLength(0);
    expect(io.errors.join("\n")).toMatch(message);
  });

  it("exits 1 when the smoke fails after a good update", async () => {
    const workspace = new FakeWorkspace();
    workspace.behaviour.dev = { outputs: { endpoints: ENDPOINTS } };
    const io = recordingIo();
    expect(await deployStage({ stack: "dev" }, workspace, fakeSmoke(1), io)).toBe(1);
    expect(io.errors).toContain("smoke of dev failed (exit 1)");
  });

  it("passes the stage's strict flag and deadline to the smoke", async () => {
    const workspace = new FakeWorkspace();
    const path = writeStackFile("strictdev", { environment: "dev", target: "docker", tiers: ["redis"], smoke: { strict: true, deadlineSeconds: 42 } });
    workspace.behaviour.strictdev = { outputs: { endpoints: ENDPOINTS } };
    const seen: SmokeStepOptions[] = [];
    await deployStage({ stack: path }, workspace, fakeSmoke(0, seen), recordingIo());
    expect(seen[0]).toMatchObject({ strict: true, deadlineSeconds: 42 });
  });

  it("does not smoke from the deploying machine on Kubernetes (the in-cluster Job did)", async () => {
    const workspace = new FakeWorkspace();
    const seen: SmokeStepOptions[] = [];
    const io = recordingIo();
    expect(await deployStage({ stack: "staging" }, workspace, fakeSmoke(1, seen), io)).toBe(0);
    expect(seen).toHaveLength(0);
    expect(workspace.calls).not.toContain("outputs staging");
    expect(io.lines.join("\n")).toMatch(/smoke Job/);
  });

  it("skips the smoke when the stage turns it off or --skip-smoke is given", async () => {
    const workspace = new FakeWorkspace();
    const off = writeStackFile("quiet", { environment: "dev", target: "docker", tiers: ["redis"], smoke: { enabled: false } });
    const seen: SmokeStepOptions[] = [];
    expect(await deployStage({ stack: off }, workspace, fakeSmoke(1, seen), recordingIo())).toBe(0);
    expect(await deployStage({ stack: "dev", skipSmoke: true }, workspace, fakeSmoke(1, seen), recordingIo())).toBe(0);
    expect(seen).toHaveLength(0);
  });

  it("fails with exit 1 when the stack exports no endpoints", async () => {
    const workspace = new FakeWorkspace();
    const io = recordingIo();
    expect(await deployStage({ stack: "dev" }, workspace, fakeSmoke(0), io)).toBe(1);
    expect(io.errors.join()).toMatch(/exports no `endpoints`/);
  });

  it("rejects an invalid stage before touching the workspace", async () => {
    const workspace = new FakeWorkspace();
    const path = writeStackFile("broken", { environment: "prod", target: "docker", tiers: ["nats"], nats: { nodes: 2 } });
    await expect(deployStage({ stack: path }, workspace, fakeSmoke(0), recordingIo())).rejects.toThrowError(OpsUsageError);
    await expect(deployStage({ stack: "nope" }, workspace, fakeSmoke(0), recordingIo())).rejects.toThrowError(/no such stack file/);
    expect(workspace.calls).toEqual([]);
  });
});

describe("destroyStage", () => {
  it("destroys an existing stack and says so when there is none", async () => {
    const workspace = new FakeWorkspace();
    await workspace.selectOrCreate("dev");
    expect(await destroyStage("dev", workspace, recordingIo())).toBe(0);
    expect(workspace.calls).toContain("destroy dev");
    const io = recordingIo();
    expect(await destroyStage("ci", workspace, io)).toBe(0);
    expect(io.lines.join()).toMatch(/does not exist/);
  });

  it("exits 1 when the destroy fails", async () => {
    const workspace = new FakeWorkspace();
    await workspace.selectOrCreate("dev");
    workspace.behaviour.dev = { destroy: new Error("code: 255\nerror: resource busy") };
    const io = recordingIo();
    expect(await destroyStage("dev", workspace, io)).toBe(1);
    expect(io.errors.join()).toContain("destroy of dev failed: error: resource busy");
  });
});

describe("pulumiCommand", () => {
  const fakeCommand = { command: "pulumi" } as unknown as import("@pulumi/pulumi/automation").PulumiCommand;

  it("uses the CLI it finds and installs nothing", async () => {
    const installs: string[] = [];
    const log: string[] = [];
    const found = await pulumiCommand({ find: async () => fakeCommand, install: async () => (installs.push("x"), fakeCommand) }, (l) => log.push(l));
    expect(found).toBe(fakeCommand);
    expect(installs).toEqual([]);
    expect(log).toEqual([]);
  });

  it("installs the pinned CLI into the cache when none is found, and says so", async () => {
    const log: string[] = [];
    let installed = 0;
    const cli = await pulumiCommand({ find: async () => undefined, install: async () => (installed++, fakeCommand) }, (l) => log.push(l));
    expect(cli).toBe(fakeCommand);
    expect(installed).toBe(1);
    expect(log.join()).toContain(`installing ${PINNED_PULUMI_VERSION} into ${PULUMI_CACHE_DIR}`);
  });

  it("pins the CLI to the SDK version the program is built with", () => {
    expect(PINNED_PULUMI_VERSION).toBe(require("@pulumi/pulumi/package.json").version);
  });
});
