/**
 * The Redis probe against real redis-server processes (started by the harness on 127.0.0.1).
 */
import { createServer, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseEndpoints, type Endpoints } from "../../healthchecks/endpoints.js";
import { runSmoke, type RunResult } from "../../healthchecks/runner.js";
import { LOCALHOST, freePort } from "../harness/ports.js";
import { startRedis, startRedisWithReplicas, type RedisServer } from "../harness/redis.js";

const PASSWORD = "it-Redis-pw-7f3a9c";
const BUS_PASSWORD = "bus-pw-5d21e0";
const DEADLINE_MS = 5_000;

let plain: RedisServer;
let secured: RedisServer;
let replicated: Awaited<ReturnType<typeof startRedisWithReplicas>>;

beforeAll(async () => {
  [plain, secured, replicated] = await Promise.all([
    startRedis(),
    // An ACL user from a rendered config, as the Redis tier will feed it.
    startRedis({ password: PASSWORD, configText: `user bus on >${BUS_PASSWORD} ~* &* +@all\n` }),
    startRedisWithReplicas(1, { password: PASSWORD }),
  ]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop(), replicated?.stop()]);
});

const consoleError = vi.spyOn(console, "error");
afterEach(() => {
  // ioredis prints "[ioredis] Unhandled error event" when an error event has no listener.
  expect(consoleError.mock.calls.flat().join(" ")).not.toContain("ioredis");
  consoleError.mockClear();
});

function endpointsFor(redis: { url: string; replicas?: number }, channels?: unknown[]): Endpoints {
  return parseEndpoints({ version: 1, stage: "it", redis, ...(channels && { channels }) });
}

function smoke(redis: { url: string; replicas?: number }, options: { channels?: unknown[]; deadlineMs?: number } = {}): Promise<RunResult> {
  return runSmoke({ endpoints: endpointsFor(redis, options.channels), deadlineMs: options.deadlineMs ?? DEADLINE_MS });
}

async function smokeKeys(server: RedisServer): Promise<string[]> {
  const client = await server.client();
  try {
    const [, keys] = await client.scan("0", "MATCH", "bp:smoke:*", "COUNT", 10_000);
    return keys;
  } finally {
    client.disconnect();
  }
}

describe("redis probe", () => {
  it("passes on a healthy server with every step, and leaves no smoke key behind", async () => {
    const result = await smoke({ url: plain.url });
    const tier = result.tiers[0]!;
    expect(result.verdict).toBe("pass");
    expect(tier.steps.map((s) => `${s.name}:${s.verdict}`)).toEqual(["connect:pass", "ping-info:pass", "pubsub-round:pass", "streams-round:pass"]);
    expect(tier.steps[1]?.detail).toMatch(/^redis \d+\.\d+\.\d+, role master, 0\/0 replicas online$/);
    expect(tier.attempts).toBe(1);
    expect(await smokeKeys(plain)).toEqual([]);
  });

  it("is degraded when a replica is expected but absent, naming how many are missing", async () => {
    const result = await smoke({ url: plain.url, replicas: 1 });
    expect(result.verdict).toBe("degraded");
    expect(result.tiers[0]?.reason).toContain("ping-info: redis");
    expect(result.tiers[0]?.reason).toContain("1 of 1 expected replica missing (none online)");
    expect(result.tiers[0]?.steps.find((s) => s.name === "streams-round")?.verdict).toBe("pass"); // it still works
  });

  it("passes on primary + replica with replicas: 1, naming the replica that is up", async () => {
    const result = await smoke({ url: replicated.primary.url, replicas: 1 });
    expect(result.verdict).toBe("pass");
    expect(result.tiers[0]?.steps[1]?.detail).toContain(`1/1 replicas online (${LOCALHOST}:${replicated.replicas[0]!.port})`);
  });

  it("fails on a replica endpoint (writes would fail) and names the role", async () => {
    const result = await smoke({ url: replicated.replicas[0]!.url });
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toMatch(/role slave: the endpoint is not the primary/);
  });

  it("authenticates with a password and with an ACL user", async () => {
    expect((await smoke({ url: secured.url })).verdict).toBe("pass");
    const bus = `redis://bus:${BUS_PASSWORD}@${LOCALHOST}:${secured.port}/0`;
    expect((await smoke({ url: bus })).verdict).toBe("pass");
  });

  it("fails at once on a wrong password, naming the user and never the password", async () => {
    const wrong = `redis://bus:not-${BUS_PASSWORD}@${LOCALHOST}:${secured.port}/0`;
    const started = Date.now();
    const result = await smoke({ url: wrong });
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", attempts: 1, reason: "connect: authentication failed for user bus" });
    expect(JSON.stringify(result)).not.toContain(BUS_PASSWORD);
    const defaultUser = await smoke({ url: `redis://default:wrong@${LOCALHOST}:${secured.port}` });
    expect(defaultUser.tiers[0]?.reason).toBe("connect: authentication failed for user default");
  });

  it("fails at once when the server wants a password and the URL has none", async () => {
    const result = await smoke({ url: `redis://${LOCALHOST}:${secured.port}/0` });
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", attempts: 1 });
    expect(result.tiers[0]?.reason).toBe(`connect: authentication required at ${LOCALHOST}:${secured.port}: the endpoints URL has no password`);
  });
});

describe("redis probe when the server is not there (yet)", () => {
  it("fails within the deadline when nothing listens, with the last reason", async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await smoke({ url: `redis://${LOCALHOST}:${port}` }, { deadlineMs: 1500 });
    expect(Date.now() - started).toBeLessThanOrEqual(1500);
    expect(result.tiers[0]?.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toMatch(new RegExp(`^not ready within 1.5 s \\(\\d+ attempts\\): connection refused at ${LOCALHOST}:${port}$`));
    expect(result.tiers[0]!.attempts).toBeGreaterThan(2);
  });

  it("fails within the deadline against a server that accepts but never answers, and closes its sockets", async () => {
    const sockets = new Set<Socket>();
    const mute = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.resume(); // read and discard what the client sends, so its close is noticed
    });
    await new Promise<void>((resolve) => mute.listen(0, LOCALHOST, resolve));
    const port = (mute.address() as { port: number }).port;
    try {
      const started = Date.now();
      const result = await smoke({ url: `redis://${LOCALHOST}:${port}` }, { deadlineMs: 1200 });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(1200 + 500); // the deadline plus event-loop slack, never the 10 s connect cap
      expect(result.tiers[0]?.verdict).toBe("fail");
      expect(result.tiers[0]?.reason).toMatch(new RegExp(`^not ready within 1.2 s \\(1 attempt\\): no answer from ${LOCALHOST}:${port} within \\d+ ms$`));
      await vi.waitFor(() => expect(sockets.size).toBe(0), { timeout: 1000 });
    } finally {
      mute.close();
    }
  });

  it("retries until a server that starts late is up, then passes", async () => {
    const port = await freePort();
    const pending = smoke({ url: `redis://${LOCALHOST}:${port}` }, { deadlineMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const late = await startRedis({ port, name: "redis-late" });
    try {
      const result = await pending;
      expect(result.verdict).toBe("pass");
      expect(result.tiers[0]!.attempts).toBeGreaterThan(1);
    } finally {
      await late.stop();
    }
  });
});

describe("redis probe: durable channels", () => {
  beforeAll(async () => {
    const client = await plain.client();
    await client.xgroup("CREATE", "it.orders.placed", "billing", "$", "MKSTREAM");
    await client.xgroup("CREATE", "it.orders.placed", "audit", "$");
    await client.xadd("it.risk.alerts", "*", "seed", "1");
    client.disconnect();
  });

  it("passes when every durable channel's stream and consumer group exists (non-durable ones are not checked)", async () => {
    const channels = [
      { name: "it.orders.placed", durable: true, consumerGroups: ["billing", "audit"] },
      { name: "it.risk.alerts", durable: true },
      { name: "it.market.ticks", durable: false },
    ];
    const result = await smoke({ url: plain.url }, { channels });
    expect(result.verdict).toBe("pass");
    expect(result.tiers[0]?.steps.at(-1)).toMatchObject({ name: "channels", verdict: "pass", detail: "2 durable channel streams and 2 consumer groups present" });
  });

  it("fails naming each missing stream and consumer group", async () => {
    const channels = [
      { name: "it.orders.placed", durable: true, consumerGroups: ["billing", "fraud"] },
      { name: "it.orders.filled", durable: true, consumerGroups: ["portfolio"] },
    ];
    const result = await smoke({ url: plain.url }, { channels });
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toBe("channels: consumer group `fraud` missing on `it.orders.placed`; stream `it.orders.filled` missing");
  });
});

describe("redis probe under concurrency", () => {
  it("runs 20 smoke runs at once against one server: all pass, none cross, nothing is left behind", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => smoke({ url: secured.url })));
    expect(results.map((r) => r.verdict)).toEqual(Array(20).fill("pass"));
    expect(new Set(results.map((r) => r.runId)).size).toBe(20);
    expect(await smokeKeys(secured)).toEqual([]);
    const client = await secured.client();
    try {
      // Every probe connection is named after its run; all of them must be closed.
      await vi.waitFor(async () => expect(await client.client("LIST")).not.toMatch(/name=bp-smoke-/), { timeout: 2000 });
      expect(await client.pubsub("CHANNELS", "bp:smoke:*")).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
