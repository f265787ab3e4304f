import { describe, expect, it } from "vitest";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { MASK, redact, redactEndpoints, scrub, secretsOf } from "../../healthchecks/redact.js";

const SECRET = "p@ss/w:rd%";
const ENCODED = encodeURIComponent(SECRET);

describe("redact", () => {
  it.each([
    [`redis://default:${ENCODED}@127.0.0.1:6379/0`, "redis://default:***@127.0.0.1:6379/0"],
    [`rediss://:${ENCODED}@h:6380`, "rediss://:***@h:6380"],
    [`amqp://bus:${ENCODED}@h:5672/botplatform`, "amqp://bus:***@h:5672/botplatform"],
    ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"],
    ["nats://bus@h:4222", "nats://bus@h:4222"],
    ["not a url //u:secretvalue@host", "not a url //u:***@host"],
  ])("%s -> %s", (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
});

const endpoints = parseEndpoints({
  version: 1,
  stage: "ci",
  redis: { url: `redis://default:${ENCODED}@127.0.0.1:6379/0`, replicas: 1 },
  nats: { servers: ["nats://127.0.0.1:4222"], user: "bus", password: "nats-secret" },
  kafka: { brokers: ["127.0.0.1:19092"], sasl: { mechanism: "scram-sha-512", username: "bus", password: "kafka-secret" } },
  rabbitmq: { url: "amqp://bus:rabbit-secret@127.0.0.1:5672/bp", managementUrl: "http://bus:mgmt-secret@127.0.0.1:15672" },
});

describe("redactEndpoints", () => {
  it("masks every password and keeps everything else", () => {
    const safe = redactEndpoints(endpoints);
    const text = JSON.stringify(safe);
    for (const secret of [ENCODED, SECRET, "nats-secret", "kafka-secret", "rabbit-secret", "mgmt-secret"]) expect(text).not.toContain(secret);
    expect(safe.redis).toEqual({ url: "redis://default:***@127.0.0.1:6379/0", replicas: 1 });
    expect(safe.nats?.password).toBe(MASK);
    expect(safe.nats?.user).toBe("bus");
    expect(safe.kafka?.sasl).toEqual({ mechanism: "scram-sha-512", username: "bus", password: MASK });
    expect(safe.rabbitmq?.url).toBe("amqp://bus:***@127.0.0.1:5672/bp");
    expect(safe.rabbitmq?.managementUrl).toBe("http://bus:***@127.0.0.1:15672/");
  });

  it("does not touch the original", () => {
    redactEndpoints(endpoints);
    expect(endpoints.nats?.password).toBe("nats-secret");
  });
});

describe("secretsOf + scrub", () => {
  it("collects URL passwords in both spellings and every password field", () => {
    expect(new Set(secretsOf(endpoints))).toEqual(new Set([ENCODED, SECRET, "nats-secret", "kafka-secret", "rabbit-secret", "mgmt-secret"]));
  });

  it("masks each secret wherever it appears in free text", () => {
    const text = `failed: ${SECRET} and ${ENCODED}; sasl kafka-secret; url redis://x:whatever@h`;
    const out = scrub(text, secretsOf(endpoints));
    for (const secret of secretsOf(endpoints)) expect(out).not.toContain(secret);
    expect(out).toBe("failed: *** and ***; sasl ***; url redis://x:***@h");
  });
});
