/** The Redis tier's pure model and config: settings + addressing -> nodes, redis.conf, auth.conf, URL. */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { BOTPLATFORM_CHANNELS, channelSchema } from "../../components/channels.js";
import { StageValidationError } from "../../components/errors/stage-validation-error.js";
import { quoteConfigValue, redisUrl, renderAuthConf, renderRedisConf } from "../../components/redis/config.js";
import { redisKubernetesAddressing } from "../../components/redis/kubernetes.js";
import { CONTAINER_PATHS, redisModel, type RedisModel } from "../../components/redis/model.js";
import { redisSettings } from "../../components/redis/settings.js";
import { parseStage } from "../../components/stage.js";
import { dockerAddressing, localAddressing } from "../../components/targets/addressing.js";

const channels = BOTPLATFORM_CHANNELS.map((c) => channelSchema.parse(c));

function dockerModel(raw: z.input<typeof redisSettings> = {}): RedisModel {
  const settings = redisSettings.parse(raw);
  const addressing = dockerAddressing({ containerName: (i) => `bp-ci-redis-${i}`, ports: { client: 6379 }, published: { client: settings.hostPort }, clientHost: "127.0.0.1" });
  return redisModel({ settings, addressing, channels });
}

/** The directive lines of a rendered redis.conf (comments and blanks dropped). */
function directives(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

describe("redisModel nodes", () => {
  it.each([0, 1, 2, 5])("%i replicas: one primary (node 0) and the replicas, each replicating node 0's peer address", (replicas) => {
    const model = dockerModel({ replicas, hostPort: 16379 });
    expect(model.nodes.map((n) => n.role)).toEqual(["primary", ...Array<string>(replicas).fill("replica")]);
    expect(model.nodes.map((n) => n.name)).toEqual(Array.from({ length: replicas + 1 }, (_, i) => `bp-ci-redis-${i}`));
    expect(model.nodes[0]!.replicaOf).toBeUndefined();
    for (const node of model.nodes.slice(1)) expect(node.replicaOf).toEqual({ host: "bp-ci-redis-0", port: 6379 });
    // Published host ports: node i on hostPort + i; the endpoint is node 0's.
    expect(model.nodes.map((n) => n.client.port)).toEqual(Array.from({ length: replicas + 1 }, (_, i) => 16379 + i));
    expect(model.primaryClient).toEqual({ host: "127.0.0.1", port: 16379 });
    expect(model.replicas).toBe(replicas);
  });

  it("uses the container paths unless told otherwise", () => {
    expect(dockerModel().nodes[0]!.paths).toEqual(CONTAINER_PATHS);
  });

  it.each([
    [{}, "redis:7.4"],
    [{ version: "7.2.5" }, "redis:7.2.5"],
    [{ version: "7.2", image: "mirror.example/redis:7.2-custom" }, "mirror.example/redis:7.2-custom"],
  ])("image of %j is %s", (raw, image) => {
    expect(dockerModel(raw).image).toBe(image);
  });

  it("makes a stream of every durable channel only, with its groups and retention", () => {
    const streams = dockerModel().streams;
    expect(streams.map((s) => s.key)).toEqual(["signals", "orders.placed", "orders.filled", "risk.alerts"]);
    expect(streams.find((s) => s.key === "orders.placed")).toEqual({ key: "orders.placed", groups: ["execution-engine", "risk-engine"], maxLength: 1_000_000, maxAgeSeconds: 7 * 86400 });
    expect(streams.find((s) => s.key === "signals")!.maxAgeSeconds).toBe(86400);
  });
});

describe("Kubernetes addressing", () => {
  const model = redisModel({ settings: redisSettings.parse({ replicas: 2 }), addressing: redisKubernetesAddressing("botplatform-prod"), channels });

  it("replicas follow pod 0 by its pod DNS name through the headless Service", () => {
    expect(model.nodes.map((n) => n.name)).toEqual(["redis-0", "redis-1", "redis-2"]);
    expect(model.nodes[2]!.replicaOf).toEqual({ host: "redis-0.redis-headless.botplatform-prod.svc.cluster.local", port: 6379 });
    expect(renderRedisConf(model, model.nodes[1]!)).toContain("replica-announce-ip redis-1.redis-headless.botplatform-prod.svc.cluster.local\n");
  });

  it("clients reach the primary through the client Service, replicas by pod DNS name", () => {
    expect(model.primaryClient).toEqual({ host: "redis.botplatform-prod.svc.cluster.local", port: 6379 });
    expect(model.nodes[1]!.client).toEqual({ host: "redis-1.redis-headless.botplatform-prod.svc.cluster.local", port: 6379 });
  });
});

describe("renderRedisConf", () => {
  it.each([
    ["aof", ["appendonly yes", "appendfsync everysec", 'save ""'], []],
    ["rdb", ["appendonly no", "save 3600 1 300 100 60 10000"], ["appendfsync everysec"]],
    ["aof+rdb", ["appendonly yes", "appendfsync everysec", "save 3600 1 300 100 60 10000"], ['save ""']],
    ["none", ["appendonly no", 'save ""'], ["appendfsync everysec"]],
  ] as const)("persistence %s", (persistence, present, absent) => {
    const model = dockerModel({ persistence });
    const lines = directives(renderRedisConf(model, model.nodes[0]!));
    for (const line of present) expect(lines).toContain(line);
    for (const line of absent) expect(lines).not.toContain(line);
  });

  it.each([
    ["256Mi", "noeviction", "maxmemory 268435456", "maxmemory-policy noeviction"],
    ["1Gi", "volatile-lru", "maxmemory 1073741824", "maxmemory-policy volatile-lru"],
  ] as const)("maxMemory %s, %s", (maxMemory, evictionPolicy, memoryLine, policyLine) => {
    const model = dockerModel({ maxMemory, evictionPolicy, resources: { memory: "2Gi" } });
    expect(directives(renderRedisConf(model, model.nodes[0]!))).toEqual(expect.arrayContaining([memoryLine, policyLine]));
  });

  it("a replica's config names its primary and announces its own stable name; a primary's does not", () => {
    const model = dockerModel({ replicas: 1 });
    const primary = directives(renderRedisConf(model, model.nodes[0]!));
    const replica = directives(renderRedisConf(model, model.nodes[1]!));
    expect(primary.some((l) => l.startsWith("replica"))).toBe(false);
    expect(replica).toEqual(expect.arrayContaining(["replicaof bp-ci-redis-0 6379", "replica-announce-ip bp-ci-redis-1", "replica-announce-port 6379", "replica-read-only yes"]));
  });

  it.each([
    [true, "protected-mode yes", true],
    [false, "protected-mode no", false],
  ])("auth %s: %s, include of the secret file %s", (enabled, protectedMode, included) => {
    const model = dockerModel({ auth: { enabled } });
    const lines = directives(renderRedisConf(model, model.nodes[0]!));
    expect(lines).toContain(protectedMode);
    expect(lines.includes("include /run/secrets/redis/auth.conf")).toBe(included);
    // The passwords live only in the included secret file.
    expect(lines.some((l) => /^(requirepass|masterauth)\b/.test(l))).toBe(false);
  });

  it.each([
    [["FLUSHALL", "FLUSHDB", "DEBUG"], ['rename-command FLUSHALL ""', 'rename-command FLUSHDB ""', 'rename-command DEBUG ""']],
    [["KEYS"], ['rename-command KEYS ""']],
    [[], []],
  ] as const)("disabledCommands %j", (disabledCommands, expected) => {
    const model = dockerModel({ disabledCommands: [...disabledCommands] });
    expect(directives(renderRedisConf(model, model.nodes[0]!)).filter((l) => l.startsWith("rename-command"))).toEqual(expected);
  });

  it("disables FLUSHALL, FLUSHDB and DEBUG by default", () => {
    expect(redisSettings.parse({}).disabledCommands).toEqual(["FLUSHALL", "FLUSHDB", "DEBUG"]);
  });

  it("binds and listens where the addressing says (the harness: 127.0.0.1 and a port per node)", () => {
    const settings = redisSettings.parse({ replicas: 1 });
    const model = redisModel({ settings, addressing: localAddressing({ tier: "redis", ports: { client: [41000, 41001] } }), channels });
    const replica = directives(renderRedisConf(model, model.nodes[1]!));
    expect(replica).toEqual(expect.arrayContaining(["bind 127.0.0.1", "port 41001", "replicaof 127.0.0.1 41000", "replica-announce-port 41001"]));
  });
});

describe("auth.conf and URL", () => {
  it.each([
    ["s3cret", '"s3cret"'],
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ["a b#c", '"a b#c"'],
    ["line\nbreak", '"line\\x0abreak"'],
  ])("quotes %j as %s", (value, quoted) => {
    expect(quoteConfigValue(value)).toBe(quoted);
  });

  it("sets requirepass and masterauth to the same password", () => {
    expect(renderAuthConf("pw")).toBe('requirepass "pw"\nmasterauth "pw"\n');
  });

  it("refuses an empty password", () => {
    expect(() => renderAuthConf("")).toThrow(/redisPassword/);
  });

  it.each([
    [undefined, "redis://127.0.0.1:6379/0"],
    ["abc", "redis://default:abc@127.0.0.1:6379/0"],
    ["p@ss:w/rd", "redis://default:p%40ss%3Aw%2Frd@127.0.0.1:6379/0"],
  ])("password %j gives %s", (password, url) => {
    expect(redisUrl({ host: "127.0.0.1", port: 6379 }, password)).toBe(url);
    if (password !== undefined) expect(decodeURIComponent(new URL(url).password)).toBe(password);
  });
});

describe("health checks", () => {
  it.each([
    ["startup", "PONG|LOADING*"],
    ["readiness", "PONG"],
    ["liveness", "PONG|LOADING*|MASTERDOWN*"],
  ] as const)("%s accepts %s, with the password read from the secret file", (probe, accepted) => {
    const check = dockerModel().nodes[0]!.health[probe];
    if (check.kind !== "exec") throw new Error("expected an exec check");
    const script = check.command[2]!;
    expect(check.command.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(script).toContain(`case "$reply" in ${accepted}) exit 0;;`);
    expect(script).toContain("IFS= read -r REDISCLI_AUTH < '/run/secrets/redis/password'; export REDISCLI_AUTH; ");
    expect(script).toMatch(/timeout \d+ redis-cli -h 127\.0\.0\.1 -p 6379 ping/);
  });

  it("has no password read without auth", () => {
    const check = dockerModel({ auth: { enabled: false } }).nodes[0]!.health.readiness;
    expect(JSON.stringify(check)).not.toContain("REDISCLI_AUTH");
  });
});

describe("stage validation of redis settings", () => {
  function problemsOf(environment: string, redis: Record<string, unknown>): { path: string; message: string }[] {
    try {
      parseStage("s", { environment, target: "docker", tiers: ["redis"], redis });
    } catch (error) {
      if (error instanceof StageValidationError) return [...error.problems];
      throw error;
    }
    return [];
  }

  it.each([
    ["ci", { maxMemory: "384Mi" }, []],
    ["ci", { maxMemory: "400Mi" }, ["redis.maxMemory"]],
    ["prod", { maxMemory: "2Gi", resources: { memory: "3Gi" } }, []],
    ["prod", { maxMemory: "3Gi", resources: { memory: "3Gi" } }, ["redis.maxMemory"]],
    ["ci", { replicas: 1, persistence: "none" }, []],
    ["staging", { replicas: 1, persistence: "none" }, ["redis.persistence"]],
    ["staging", { replicas: 0, persistence: "none" }, []],
    ["ci", { disabledCommands: ["KEYS", "KEYS"] }, ["redis.disabledCommands[1]"]],
    ["ci", { disabledCommands: ["XADD"] }, ["redis.disabledCommands[0]"]],
    ["ci", { evictionPolicy: "allkeys-lru" }, ["redis.evictionPolicy"]],
    ["staging", { auth: { enabled: false }, maxMemory: "1Gi" }, ["redis.auth.enabled", "redis.maxMemory"]],
  ])("%s %j -> problems at %j", (environment, redis, paths) => {
    expect(problemsOf(environment, redis).map((p) => p.path).sort()).toEqual([...paths].sort());
  });

  it("names both fields of the memory conflict", () => {
    const [problem] = problemsOf("ci", { maxMemory: "1Gi" });
    expect(problem?.message).toContain("redis.resources.memory (512Mi)");
  });
});
