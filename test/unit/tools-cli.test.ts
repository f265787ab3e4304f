import { describe, expect, it } from "vitest";
import { listStages } from "../../tools/stack-file.js";
import { runTool, writeStackFile } from "../harness/plan.js";

describe("npm run validate", () => {
  it("accepts every shipped stack file", async () => {
    const result = await runTool("tools/validate.ts", ["--all"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const stage of listStages()) expect(result.stdout).toContain(`ok      ${stage}`);
  });

  it("rejects a broken stack file with all its problems, exit 2, no stack trace", async () => {
    const path = writeStackFile("broken", {
      environment: "prod",
      target: "kubernetes",
      tiers: ["nats", "kafka", "redis"],
      nats: { nodes: 2 },
      kafka: { brokers: 1, replicationFactor: 3 },
      redis: { auth: { enabled: false } },
      redisPassword: "hunter2-plaintext",
    });
    const result = await runTool("tools/validate.ts", [path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("5 problems");
    for (const path of ["redisPassword", "nats.nodes", "kafka.replicationFactor", "redis.auth.enabled", "smoke.image"]) expect(result.stdout).toContain(`- ${path}: `);
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stdout + result.stderr).not.toContain("hunter2-plaintext");
  });

  it("names a missing stage and the ones that exist", async () => {
    const result = await runTool("tools/validate.ts", ["--stage", "nope"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/no such stack file \(stages: .*ci/);
  });

  it("exits 2 on bad usage", async () => {
    expect((await runTool("tools/validate.ts", [])).code).toBe(2);
    expect((await runTool("tools/validate.ts", ["--bogus"])).code).toBe(2);
  });
});

describe("npm run plan", () => {
  it("plans a stage with no tiers: the network and the platform only", async () => {
    const path = writeStackFile("inmemory", { environment: "local", target: "docker", tiers: [] });
    const result = await runTool("tools/plan.ts", ["--stage", path, "--format", "json"]);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as { type: string; name: string; parent?: string }[];
    expect(plan.map((r) => `${r.type} ${r.name} <- ${r.parent ?? ""}`)).toEqual([
      "botplatform:index:BrokerPlatform bp-inmemory <- ",
      "docker:index/network:Network bp-inmemory-net <- bp-inmemory",
    ]);
  });

  it("prints a tree by default", async () => {
    const path = writeStackFile("inmemory", { environment: "local", target: "docker" });
    const result = await runTool("tools/plan.ts", ["--stage", path]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("botplatform:index:BrokerPlatform  bp-inmemory\n  docker:index/network:Network  bp-inmemory-net");
  });

  it("rejects an invalid stage with every problem and exit 2, creating nothing", async () => {
    const path = writeStackFile("bad", { environment: "ci", target: "docker", tiers: ["nats"], nats: { nodes: 4 }, extra: true });
    const result = await runTool("tools/plan.ts", ["--stage", path, "--format", "json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("nats.nodes:");
    expect(result.stderr).toContain("extra: is not a known setting");
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it("rejects an unknown format naming the flag", async () => {
    const result = await runTool("tools/plan.ts", ["--stage", "local", "--format", "xml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--format.*must be one of tree, json, yaml/);
  });
});

describe("plaintext secret detection in stack files", () => {
  it("flags password, cookie and token settings but not the name of a pull Secret", async () => {
    const path = writeStackFile("pullsecret", {
      environment: "staging",
      target: "kubernetes",
      tiers: ["redis"],
      smoke: { image: "registry.internal/smoke:1", imagePullSecret: "regcred" },
      rabbitmqErlangCookie: "plain-cookie-value",
    });
    const result = await runTool("tools/validate.ts", [path]);
    expect(result.stdout).toContain("- rabbitmqErlangCookie: is a plaintext secret");
    expect(result.stdout).not.toContain("imagePullSecret");
    expect(result.stdout).not.toContain("plain-cookie-value");
  });
});
