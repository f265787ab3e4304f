/**
 * The Redis tier's rendered configs on real redis-server processes (127.0.0.1, ephemeral ports): the
 * cluster the model describes forms, the channel init script provisions it idempotently, the smoke
 * checks (runner and CLI) pass on it, and faults show: a dead replica degrades, a wrong route never
 * forms, a wrong password fails.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retentionKey } from "../../components/redis/streams.js";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { runSmoke } from "../../healthchecks/runner.js";
import { freePort } from "../harness/ports.js";
import { startRedisTier, type RedisTierCluster } from "../harness/redis-tier.js";

const run = promisify(execFile);
const DEADLINE_MS = 15 * 1000;
const REPO_ROOT = join(__dirname, "..", "..");

async function withClient<T>(cluster: RedisTierCluster, node: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = await cluster.client(node);
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Exit code of a rendered health check, run as the container would run it. */
async function healthExit(command: readonly string[]): Promise<number> {
  try {
    await run(command[0]!, command.slice(1), { timeout: 10 * 1000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

/** Pids whose command line mentions `text` (from /proc: no procps needed). */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/** Everything the init task may touch, to prove a second run changes nothing. */
async function channelState(client: Redis, streams: readonly string[]): Promise<unknown> {
  const state: Record<string, unknown> = { keys: (await client.scan("0", "COUNT", 1000))[1].sort() };
  for (const key of streams) {
    state[key] = { groups: await client.xinfo("GROUPS", key), length: await client.xlen(key), retention: await client.hgetall(retentionKey(key)) };
  }
  return state;
}

describe("primary + replica with auth and AOF (the dev/staging shape)", () => {
  let cluster: RedisTierCluster;
  const streams = () => cluster.model.streams.map((s) => s.key);

  beforeAll(async () => {
    cluster = await startRedisTier({ settings: { replicas: 1, persistence: "aof" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("forms the cluster the model describes: the primary lists its replica by the announced address", async () => {
    const replica = cluster.model.nodes[1]!;
    const info = await withClient(cluster, 0, (c) => c.info("replication"));
    expect(info).toContain("role:master");
    expect(info).toMatch(new RegExp(`slave0:ip=127\\.0\\.0\\.1,port=${replica.port},state=online`));
    expect(await withClient(cluster, 1, (c) => c.info("replication"))).toContain("master_link_status:up");
  });

  it("runs the rendered settings: password required, no eviction, AOF everysec, dangerous commands gone", async () => {
    await withClient(cluster, 0, async (c) => {
      expect(await c.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
      expect(await c.config("GET", "maxmemory")).toEqual(["maxmemory", String(256 * 1024 * 1024)]);
      expect(await c.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
      expect(await c.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
      await expect(c.call("FLUSHALL")).rejects.toThrow(/unknown command/);
      await expect(c.call("FLUSHDB")).rejects.toThrow(/unknown command/);
    });
    const anonymous = parseEndpoints({ ...cluster.endpoints, redis: { url: cluster.url.replace(/default:[^@]+@/, ""), replicas: 1 } });
    const result = await runSmoke({ endpoints: anonymous, deadlineMs: DEADLINE_MS });
    expect(result.tiers[0]!.reason).toMatch(/authentication required/);
  });

  it("passes the rendered health checks on both nodes", async () => {
    for (const node of cluster.model.nodes) {
      for (const probe of ["startup", "readiness", "liveness"] as const) {
        const check = node.health[probe];
        if (check.kind !== "exec") throw new Error("expected exec checks");
        expect(await healthExit(check.command), `${node.name} ${probe}`).toBe(0);
      }
    }
  });

  it("provisions every durable channel's stream and groups, and a second run changes nothing", async () => {
    const first = await cluster.runInit();
    expect(first.stdout).toMatch(/redis-init: \d+ commands applied/);
    const after = await withClient(cluster, 0, (c) => channelState(c, streams()));
    for (const stream of cluster.model.streams) {
      const groups = await withClient(cluster, 0, (c) => c.xinfo("GROUPS", stream.key) as Promise<unknown[][]>);
      expect(groups.map((g) => g[g.indexOf("name") + 1]).sort(), stream.key).toEqual([...stream.groups].sort());
      expect(await withClient(cluster, 0, (c) => c.hgetall(retentionKey(stream.key)))).toEqual({ maxlen: String(stream.maxLength), "maxage-s": String(stream.maxAgeSeconds) });
    }
    await cluster.runInit();
    expect(await withClient(cluster, 0, (c) => channelState(c, streams()))).toEqual(after);
  });

  it("replicates the provisioned streams to the replica", async () => {
    const key = cluster.model.streams[0]!.key;
    await expect.poll(() => withClient(cluster, 1, (c) => c.exists(key)), { timeout: 5000 }).toBe(1);
  });

  it("passes the smoke checks through the runner: replica online, channels present", async () => {
    const result = await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS });
    const [tier] = result.tiers;
    expect(tier!.verdict, JSON.stringify(tier)).toBe("pass");
    expect(tier!.steps.find((s) => s.name === "ping-info")!.detail).toContain("1/1 replicas online");
    expect(tier!.steps.find((s) => s.name === "channels")).toMatchObject({ verdict: "pass", detail: "4 durable channel streams and 6 consumer groups present" });
  });

  it("passes the smoke CLI on the endpoints document (exit 0), without printing the password", async () => {
    const file = join(tmpdir(), `bp-redis-endpoints-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(cluster.endpoints));
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "healthchecks", "cli.ts"), "--endpoints", file, "--tiers", "redis", "--deadline", "15"], { cwd: REPO_ROOT, env: { ...process.env, CI: "1" } });
    expect(stdout).toMatch(/^redis\s+pass\b/im);
    expect(stdout).toMatch(/smoke harness: PASS/);
    expect(stdout + stderr).not.toContain(cluster.password!);
  });

  it("keeps stream entries across a primary restart (AOF), and the replica follows again", async () => {
    const key = cluster.model.streams[0]!.key;
    const id = await withClient(cluster, 0, (c) => c.xadd(key, "*", "event", "survives-restart"));
    await cluster.stopNode(0);
    await cluster.startNode(0);
    const entries = await withClient(cluster, 0, (c) => c.xrange(key, id!, id!));
    expect(entries).toEqual([[id, ["event", "survives-restart"]]]);
    await expect.poll(() => withClient(cluster, 0, (c) => c.info("replication")), { timeout: 10 * 1000 }).toMatch(/slave0:.*state=online/);
  });

  it("reports degraded (1 of 1 expected replica missing) when the replica dies, fails with --strict, and passes again once it is back", async () => {
    const replica = cluster.model.nodes[1]!;
    await cluster.kill(1);
    const degraded = await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS });
    expect(degraded.verdict).toBe("degraded");
    expect(degraded.tiers[0]!.steps.find((s) => s.name === "ping-info")).toMatchObject({ verdict: "degraded", detail: expect.stringContaining("1 of 1 expected replica missing") });
    expect(await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS, strict: true }).then((r) => r.verdict)).toBe("fail");
    const check = replica.health.readiness;
    if (check.kind === "exec") expect(await healthExit(check.command)).not.toBe(0);

    await cluster.startNode(1);
    await expect.poll(async () => (await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS })).verdict, { timeout: 15 * 1000 }).toBe("pass");
  });

  it("fails with the reason when the URL carries a wrong password", async () => {
    const wrong = parseEndpoints({ ...cluster.endpoints, redis: { url: cluster.url.replace(/default:[^@]+@/, "default:not-the-password@"), replicas: 1 } });
    const result = await runSmoke({ endpoints: wrong, deadlineMs: DEADLINE_MS });
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]!.reason).toMatch(/authentication failed for user default/);
  });
});

describe("standalone without auth, nothing persisted (the local/ci shape)", () => {
  let cluster: RedisTierCluster;

  beforeAll(async () => {
    cluster = await startRedisTier({ settings: { persistence: "none", auth: { enabled: false } } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("serves clients on a URL without user info", async () => {
    expect(cluster.url).toBe(`redis://127.0.0.1:${cluster.model.nodes[0]!.port}/0`);
    await withClient(cluster, 0, async (c) => {
      expect(await c.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
      expect(await c.config("GET", "save")).toEqual(["save", ""]);
    });
  });

  it("fails the channel check before the init task ran, passes after it", async () => {
    const before = await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS });
    expect(before.verdict).toBe("fail");
    expect(before.tiers[0]!.steps.find((s) => s.name === "channels")!.detail).toMatch(/stream `signals` missing/);
    await cluster.runInit();
    const after = await runSmoke({ endpoints: cluster.endpoints, deadlineMs: DEADLINE_MS });
    expect(after.verdict, JSON.stringify(after.tiers[0])).toBe("pass");
  });

  it("fails the init task loudly, naming the primary, when the primary does not answer", async () => {
    await cluster.stopNode(0);
    await expect(cluster.runInit()).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/redis-init: 127\.0\.0\.1:\d+ is not ready/) });
  });
});

describe("a wrong route", () => {
  it("never forms: a replica told to follow a port where no primary listens is not ready, and nothing is left running", async () => {
    const nowhere = await freePort();
    let configDir = "";
    const start = startRedisTier({
      settings: { replicas: 1 },
      readyTimeoutMs: 3000,
      // The replica's config says `replicaof 127.0.0.1 <nowhere>`.
      tamper: (model) => {
        configDir = model.nodes[1]!.paths.configDir;
        return { ...model, nodes: model.nodes.map((n) => (n.replicaOf ? { ...n, replicaOf: { host: "127.0.0.1", port: nowhere } } : n)) };
      },
    });
    await expect(start).rejects.toThrow(/redis-1 not ready within 3000 ms/);
    expect(configDir).not.toBe("");
    expect(processesMentioning(configDir.replace(/redis-1\/conf$/, ""))).toEqual([]);
  });
});
