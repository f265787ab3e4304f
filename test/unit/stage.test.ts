import { describe, expect, it } from "vitest";
import { StageValidationError } from "../../components/errors/stage-validation-error.js";
import { BOTPLATFORM_CHANNELS } from "../../components/channels.js";
import { parseStage } from "../../components/stage.js";

const base = { environment: "ci", target: "docker" } as const;

function problemsOf(raw: Record<string, unknown>, stack = "ci"): { path: string; message: string }[] {
  try {
    parseStage(stack, raw);
  } catch (error) {
    if (error instanceof StageValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("parseStage defaults", () => {
  it("accepts a stage with no tiers: the in-memory start of the path", () => {
    const stage = parseStage("local", { environment: "local", target: "docker" });
    expect(stage.tiers).toEqual([]);
    expect(stage.redis).toBeUndefined();
    expect(stage.docker.bindAddress).toBe("127.0.0.1");
    expect(stage.channels.map((c) => c.name)).toEqual(BOTPLATFORM_CHANNELS.map((c) => c.name));
  });

  it("fills every default of an enabled tier and none of a disabled one", () => {
    const stage = parseStage("dev", { ...base, tiers: ["nats", "redis"] });
    expect(stage.tiers).toEqual(["redis", "nats"]);
    expect(stage.redis).toMatchObject({ persistence: "aof", evictionPolicy: "noeviction", replicas: 0, hostPort: 6379, auth: { enabled: true } });
    expect(stage.nats).toMatchObject({ nodes: 1, hostPorts: { client: 4222, monitor: 8222 } });
    expect(stage.kafka).toBeUndefined();
  });

  it("keeps 0 and empty values the user gave (defaults use ??, not ||)", () => {
    const stage = parseStage("ci", { ...base, tiers: ["redis"], redis: { replicas: 0 }, channels: [{ name: "signals", consumerGroups: [] }] });
    expect(stage.redis?.replicas).toBe(0);
    expect(stage.channels).toHaveLength(1);
  });

  it("names the Kubernetes namespace after the stack unless given", () => {
    expect(parseStage("staging", { environment: "staging", target: "kubernetes" }).kubernetes.namespace).toBe("botplatform-staging");
    expect(parseStage("staging", { environment: "staging", target: "kubernetes", kubernetes: { namespace: "bus" } }).kubernetes.namespace).toBe("bus");
  });

  it("is deterministic: the same input gives the same stage", () => {
    const raw = { ...base, tiers: ["redis", "kafka"], kafka: { brokers: 3 } };
    expect(parseStage("ci", raw)).toEqual(parseStage("ci", raw));
  });
});

describe("parseStage rejects each problem with its config path", () => {
  it.each([
    ["unknown tier", { ...base, tiers: ["redis", "memcached"] }, "tiers[1]", /expected one of|Invalid option/],
    ["even NATS cluster", { ...base, tiers: ["nats"], nats: { nodes: 2 } }, "nats.nodes", /1, 3 or 5/],
    ["Kafka RF above brokers", { ...base, tiers: ["kafka"], kafka: { brokers: 1, replicationFactor: 3 } }, "kafka.replicationFactor", /larger than kafka.brokers \(1\)/],
    ["Kafka minISR above RF", { ...base, tiers: ["kafka"], kafka: { brokers: 3, replicationFactor: 2, minInsyncReplicas: 3 } }, "kafka.minInsyncReplicas", /larger than the replication factor/],
    ["even combined Kafka quorum", { ...base, tiers: ["kafka"], kafka: { brokers: 4 } }, "kafka.brokers", /even controller quorum/],
    ["auth off on prod", { environment: "prod", target: "kubernetes", tiers: ["redis"], redis: { auth: { enabled: false } } }, "redis.auth.enabled", /not on prod/],
    ["unknown setting", { ...base, tiers: ["redis"], redis: { replicsa: 1 } }, "redis.replicsa", /not a known setting/],
    ["unknown top-level key", { ...base, tier: ["redis"] }, "tier", /not a known setting/],
    ["settings for a disabled tier", { ...base, tiers: [], nats: { nodes: 3 } }, "nats", /not in `tiers`/],
    ["wrong target block", { ...base, kubernetes: { namespace: "x" } }, "kubernetes", /target` is docker/],
    ["bad bind address", { ...base, docker: { bindAddress: "localhost" } }, "docker.bindAddress", /IPv4/],
    ["evicting policy", { ...base, tiers: ["redis"], redis: { evictionPolicy: "allkeys-lru" } }, "redis.evictionPolicy", /.+/],
    ["bad quantity", { ...base, tiers: ["redis"], redis: { maxMemory: "lots" } }, "redis.maxMemory", /byte quantity/],
    ["privileged host port", { ...base, tiers: ["redis"], redis: { hostPort: 80 } }, "redis.hostPort", /1024/],
    ["overlapping host ports", { ...base, tiers: ["redis", "nats"], nats: { nodes: 3, hostPorts: { client: 6378 } } }, "nats.hostPorts.client", /overlap redis.hostPort/],
    ["duplicate channel", { ...base, channels: [{ name: "signals" }, { name: "signals" }] }, "channels[1].name", /duplicates channels\[0\]/],
    ["bad channel name", { ...base, channels: [{ name: "Orders Placed" }] }, "channels[0].name", /dot-separated/],
    ["missing target", { environment: "ci" }, "target", /.+/],
    ["bad stack name", { ...base }, "stack", /lowercase/, "CI_Stage"],
  ] as const)("%s", (_label, raw, path, message, stack: string = "ci") => {
    const problems = problemsOf(raw as Record<string, unknown>, stack);
    const problem = problems.find((p) => p.path === path);
    expect(problem, `problems: ${JSON.stringify(problems)}`).toBeDefined();
    expect(problem!.message).toMatch(message);
  });

  it("reports every problem at once, across sections", () => {
    const problems = problemsOf({
      ...base,
      tiers: ["redis", "nats", "kafka"],
      redis: { replicsa: 1 },
      nats: { nodes: 4 },
      kafka: { brokers: 1, replicationFactor: 3 },
      channels: [{ name: "a" }, { name: "a" }],
    });
    expect(problems.map((p) => p.path).sort()).toEqual(["channels[1].name", "kafka.replicationFactor", "nats.nodes", "redis.replicsa"]);
  });

  it("error message lists every problem with its path", () => {
    expect(() => parseStage("ci", { ...base, tiers: ["nats"], nats: { nodes: 2 }, bogus: 1 })).toThrowError(/2 problems:\n {2}- bogus: .*\n {2}- nats.nodes: /);
  });
});
