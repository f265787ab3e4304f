import { describe, expect, it } from "vitest";
import { formatPath, parseEndpoints, presentTiers } from "../../healthchecks/endpoints.js";
import { EndpointsError } from "../../healthchecks/errors/endpoints-error.js";

const SECRET = "hunter2-very-secret";

/** The example from DESIGN.md §3, verbatim apart from the password. */
const designExample = {
  version: 1,
  stage: "ci",
  redis: { url: `redis://default:${SECRET}@127.0.0.1:6379/0`, replicas: 1 },
  nats: { servers: ["nats://127.0.0.1:4222"], user: "bus", password: SECRET, clusterSize: 3, monitorUrl: "http://127.0.0.1:8222" },
  kafka: { brokers: ["127.0.0.1:19092"], clusterSize: 3, sasl: { mechanism: "scram-sha-512", username: "bus", password: SECRET } },
  rabbitmq: { url: `amqp://bus:${SECRET}@127.0.0.1:5672/botplatform`, managementUrl: "http://127.0.0.1:15672", clusterSize: 3 },
  channels: [{ name: "orders.placed", durable: true, partitions: 6 }],
};

function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseEndpoints(input);
  } catch (err) {
    expect(err).toBeInstanceOf(EndpointsError);
    return [...(err as EndpointsError).problems];
  }
  throw new Error("expected parseEndpoints to throw");
}

const withBlock = (patch: Record<string, unknown>): Record<string, unknown> => ({ version: 1, stage: "ci", ...patch });

describe("parseEndpoints", () => {
  it("accepts the DESIGN.md example unchanged", () => {
    expect(parseEndpoints(designExample)).toEqual(designExample);
  });

  it("accepts a document with no tier block and no auth", () => {
    expect(parseEndpoints({ version: 1, stage: "local", redis: { url: "redis://127.0.0.1:6379" } })).toEqual({
      version: 1,
      stage: "local",
      redis: { url: "redis://127.0.0.1:6379" },
    });
    expect(presentTiers(parseEndpoints({ version: 1, stage: "local" }))).toEqual([]);
  });

  it("keeps unknown channel keys and optional channel fields, so provisioning can extend channels", () => {
    const channel = { name: "bot.events", durable: true, consumerGroups: ["billing", "audit"], retention: { maxAgeMs: 1000 }, future: "x" };
    expect(parseEndpoints(withBlock({ channels: [channel] })).channels).toEqual([channel]);
  });

  it("tolerates unknown top-level and tier keys (newer provisioning), dropping them from tier blocks", () => {
    const parsed = parseEndpoints(withBlock({ mqtt: { url: "x" }, redis: { url: "rediss://h:6380", tlsCa: "pem" } }));
    expect(parsed.redis).toEqual({ url: "rediss://h:6380" });
  });

  it("lists tiers present in canonical order", () => {
    expect(presentTiers(parseEndpoints(designExample))).toEqual(["redis", "nats", "kafka", "rabbitmq"]);
  });

  describe.each<[string, unknown, string, string]>([
    ["not an object", [], "endpoints", "must be an object"],
    ["version 2", { ...designExample, version: 2 }, "version", "must be 1"],
    ["missing version", withBlock({ version: undefined }), "version", "must be 1"],
    ["missing stage", { version: 1 }, "stage", "is required"],
    ["empty stage", withBlock({ stage: "" }), "stage", "must not be empty"],
    ["redis url not a URL", withBlock({ redis: { url: "localhost:6379" } }), "redis.url", "must be a redis:// or rediss:// URL"],
    ["redis url of another scheme", withBlock({ redis: { url: "http://h:6379" } }), "redis.url", "must be a redis:// or rediss:// URL"],
    ["redis url missing", withBlock({ redis: {} }), "redis.url", "is required"],
    ["redis replicas negative", withBlock({ redis: { url: "redis://h", replicas: -1 } }), "redis.replicas", "must be >= 0"],
    ["redis replicas fractional", withBlock({ redis: { url: "redis://h", replicas: 1.5 } }), "redis.replicas", "must be an integer"],
    ["nats servers empty", withBlock({ nats: { servers: [] } }), "nats.servers", "must have at least 1 entry"],
    ["nats server wrong scheme", withBlock({ nats: { servers: ["nats://a:4222", "http://b:4222"] } }), "nats.servers[1]", "must be a nats:// or tls:// URL"],
    ["nats password without user", withBlock({ nats: { servers: ["nats://a"], password: SECRET } }), "nats.user", "is required when `nats.password` is set"],
    ["nats clusterSize 0", withBlock({ nats: { servers: ["nats://a"], clusterSize: 0 } }), "nats.clusterSize", "must be >= 1"],
    ["nats monitorUrl wrong scheme", withBlock({ nats: { servers: ["nats://a"], monitorUrl: "nats://a:8222" } }), "nats.monitorUrl", "must be a http:// or https:// URL"],
    ["kafka broker without port", withBlock({ kafka: { brokers: ["127.0.0.1"] } }), "kafka.brokers[0]", "must be host:port"],
    ["kafka broker port out of range", withBlock({ kafka: { brokers: ["h:70000"] } }), "kafka.brokers[0]", "must be host:port"],
    ["kafka sasl mechanism", withBlock({ kafka: { brokers: ["h:9092"], sasl: { mechanism: "gssapi", username: "u", password: SECRET } } }), "kafka.sasl.mechanism", 'must be one of "plain", "scram-sha-256", "scram-sha-512"'],
    ["kafka sasl password missing", withBlock({ kafka: { brokers: ["h:9092"], sasl: { mechanism: "plain", username: "u" } } }), "kafka.sasl.password", "is required"],
    ["rabbitmq url wrong scheme", withBlock({ rabbitmq: { url: "redis://h" } }), "rabbitmq.url", "must be a amqp:// or amqps:// URL"],
    ["channels not an array", withBlock({ channels: {} }), "channels", "must be an array"],
    ["channel without durable", withBlock({ channels: [{ name: "a" }] }), "channels[0].durable", "is required"],
    ["channel durable not boolean", withBlock({ channels: [{ name: "a", durable: "yes" }] }), "channels[0].durable", "must be a boolean"],
    ["channel partitions 0", withBlock({ channels: [{ name: "a", durable: true, partitions: 0 }] }), "channels[0].partitions", "must be >= 1"],
    ["channel consumer group empty", withBlock({ channels: [{ name: "a", durable: true, consumerGroups: ["g", ""] }] }), "channels[0].consumerGroups[1]", "must not be empty"],
    ["duplicate channel", withBlock({ channels: [{ name: "a", durable: true }, { name: "a", durable: false }] }), "channels[1].name", "duplicate channel name `a`"],
  ])("rejects %s", (_label, input, path, message) => {
    it(`names \`${path}\``, () => {
      expect(problemsOf(input)).toContainEqual({ path, message: expect.stringContaining(message) as string });
    });
  });

  it("reports every problem at once, as one EndpointsError with name, cause and a message naming each field", () => {
    let error: unknown;
    try {
      parseEndpoints({ version: 1, stage: "", redis: { url: "nope" }, kafka: { brokers: ["x"] } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EndpointsError);
    const e = error as EndpointsError;
    expect(e.name).toBe("EndpointsError");
    expect(e.cause).toBeDefined();
    expect(e.problems.map((p) => p.path)).toEqual(["stage", "redis.url", "kafka.brokers[0]"]);
    expect(e.message).toBe("invalid endpoints: stage: must not be empty; redis.url: must be a redis:// or rediss:// URL; kafka.brokers[0]: must be host:port");
  });

  it("never quotes a value in its messages (values may be secrets)", () => {
    const problems = problemsOf(withBlock({ redis: { url: `redis//default:${SECRET}@h` }, nats: { servers: [`nats:/${SECRET}`], password: 42 } }));
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(problems)).not.toContain(SECRET);
  });
});

describe("formatPath", () => {
  it.each<[PropertyKey[], string]>([
    [[], "endpoints"],
    [["stage"], "stage"],
    [["nats", "servers", 0], "nats.servers[0]"],
    [["channels", 2, "consumerGroups", 1], "channels[2].consumerGroups[1]"],
  ])("%j -> %s", (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});
