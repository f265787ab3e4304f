/**
 * A real 3-node JetStream cluster started from the NATS tier's own rendered configs (local addressing):
 * it forms, advertises client URLs clients can dial, enforces the `bus` user's permissions, takes the
 * channels' streams from the rendered init script (nats CLI) and from the harness, passes the smoke
 * probe and CLI, and reports the fault cases: one node down -> degraded naming it; two -> fail.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INIT_PASSWORD_FILE, natsInitTask } from "../../components/nats/init-script.js";
import { parseEndpoints, type Endpoints } from "../../healthchecks/endpoints.js";
import { SMOKE_STREAM } from "../../healthchecks/nats-jetstream.js";
import { runSmoke, type RunResult } from "../../healthchecks/runner.js";
import { NATS_CLI_BIN, applyStreams, startNatsCluster, type NatsCluster } from "../harness/nats.js";
import { freePorts } from "../harness/ports.js";

const ROOT = resolve(__dirname, "../..");
const run = promisify(execFile);
/** A healthy cluster answers in well under a second; this only bounds a broken one. */
const PASS_DEADLINE_MS = 20 * 1000;
/** Quorum loss is reported when the deadline passes: short, to keep the suite fast. */
const QUORUM_DEADLINE_MS = 6 * 1000;

let cluster: NatsCluster;
let nc: NatsConnection;
const dir = mkdtempSync(join(tmpdir(), "bp-nats-it-"));

function endpoints(overrides: Partial<NonNullable<Endpoints["nats"]>> = {}): Endpoints {
  return parseEndpoints({
    version: 1,
    stage: "it",
    nats: { ...cluster.endpoint(), ...overrides },
    channels: cluster.channels.map((c) => ({ name: c.name, durable: c.durable, consumerGroups: c.consumerGroups })),
  });
}

const smoke = (doc: Endpoints, deadlineMs = PASS_DEADLINE_MS): Promise<RunResult> => runSmoke({ endpoints: doc, tiers: ["nats"], deadlineMs });

/** The smoke CLI as a child process on an endpoints file, as CI runs it after a deploy. */
async function smokeCli(doc: Endpoints, args: string[]): Promise<{ code: number | undefined; output: string }> {
  const file = join(dir, `endpoints-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const argv = ["--import", "tsx", join(ROOT, "healthchecks/cli.ts"), "--endpoints", file, "--tiers", "nats", ...args];
  return run(process.execPath, argv, { cwd: ROOT }).then(
    (r) => ({ code: 0, output: `${r.stdout}${r.stderr}` }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code, output: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
  );
}
const stepOf = (result: RunResult, name: string) => result.tiers[0]?.steps.find((s) => s.name === name);

beforeAll(async () => {
  cluster = await startNatsCluster();
  nc = await cluster.connect([cluster.nodes[0]!.clientUrl]);
});

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a 3-node cluster from the rendered configs", () => {
  it("forms: every node routes to both peers and all agree on one JetStream meta leader", async () => {
    const leaders = new Set<string>();
    for (const node of cluster.nodes) {
      const routez = (await (await fetch(`${node.monitorUrl}/routez`)).json()) as { routes: { remote_name: string }[] };
      const peers = new Set(routez.routes.map((r) => r.remote_name));
      expect([...peers].sort()).toEqual(cluster.nodes.filter((n) => n !== node).map((n) => n.name));
      const jsz = (await (await fetch(`${node.monitorUrl}/jsz`)).json()) as { meta_cluster: { leader: string; cluster_size: number } };
      expect(jsz.meta_cluster.cluster_size).toBe(3);
      leaders.add(jsz.meta_cluster.leader);
    }
    expect(leaders.size).toBe(1);
    expect(cluster.nodes.map((n) => n.name)).toContain([...leaders][0]);
  });

  it("gossips the client URLs the model advertises, so a client given one server learns them all", () => {
    const advertised = cluster.model.nodes.map((n) => `${n.client.host}:${n.client.port}`);
    expect([...(nc.info?.connect_urls ?? [])].sort()).toEqual([...advertised].sort());
  });

  it("lets `bus` use its channels and the JetStream API, and nothing else", async () => {
    const errors: unknown[] = [];
    const watcher = (async () => {
      for await (const status of nc.status()) if (status.type === "error") errors.push(status.data);
    })();
    nc.publish("orders.placed.eu", "allowed");
    nc.publish("not.a.channel", "denied");
    await nc.flush();
    const subscribeError = new Promise<string>((resolvePromise) => nc.subscribe("not.a.channel.>", { callback: (err) => err && resolvePromise(err.message) }));
    expect(await subscribeError).toMatch(/Permissions Violation for Subscription to "not\.a\.channel\.>"/);
    // Deleting a channel's history is an operator's act: the server never answers `bus`.
    const jsm = await nc.jetstreamManager({ timeout: 1000 });
    await expect(jsm.streams.delete("ORDERS_PLACED")).rejects.toThrow();
    await nc.flush();
    expect(errors).toContain("PERMISSIONS_VIOLATION");
    void watcher;
  });

  it("runs the rendered init script (nats CLI) twice: streams and consumers created, then unchanged", async () => {
    const task = natsInitTask(cluster.model);
    for (const [file, content] of Object.entries(task.files)) writeFileSync(join(dir, file), content);
    writeFileSync(join(dir, INIT_PASSWORD_FILE), cluster.secrets.busPassword, { mode: 0o600 });
    const env = { ...process.env, PATH: `${resolve(NATS_CLI_BIN, "..")}:${process.env.PATH ?? ""}`, HOME: dir };
    const [command, ...args] = task.command(dir);
    const first = await run(command!, args, { env, cwd: dir });
    expect(first.stdout).toContain("stream ORDERS_PLACED: ok");
    expect(first.stdout).toContain("consumer ORDERS_PLACED/risk-engine: ok");
    const second = await run(command!, args, { env, cwd: dir });
    expect(second.stdout).toBe(first.stdout);

    const jsm = await nc.jetstreamManager();
    for (const { stream, consumers } of cluster.model.streams) {
      const info = await jsm.streams.info(stream.name);
      expect(info.config).toMatchObject(stream);
      expect(info.state.messages).toBe(0);
      for (const consumer of consumers) expect((await jsm.consumers.info(stream.name, consumer.durable_name)).config).toMatchObject(consumer);
    }
    // The harness applies the very same JSON through the JetStream API: an update with no change.
    await applyStreams(nc, cluster.model.streams);
    expect((await jsm.streams.info("RISK_ALERTS")).config.max_bytes).toBe(8 * 1024 * 1024);
  });
});

describe("the NATS probe on the healthy cluster", () => {
  it("passes every step, and the smoke CLI exits 0", async () => {
    const result = await smoke(endpoints());
    expect(result.tiers[0], JSON.stringify(result.tiers[0])).toMatchObject({ tier: "nats", verdict: "pass" });
    expect(result.tiers[0]?.steps.map((s) => s.name)).toEqual(["connect", "cluster", "pubsub-round", "request-reply", "jetstream-round", "channels"]);
    expect(stepOf(result, "cluster")?.detail).toMatch(/^3\/3 servers, meta leader nats-\d/);
    expect(stepOf(result, "channels")?.detail).toBe("2 channel streams (R3) and 3 consumers present");

    const cli = await smokeCli(endpoints(), ["--deadline", "20"]);
    expect(cli.code, cli.output).toBe(0);
    expect(cli.output).not.toContain(cluster.secrets.busPassword);
  });

  it("leaves nothing behind: concurrent runs pass and BP_SMOKE keeps no message and no consumer", async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => smoke(endpoints())));
    expect(results.map((r) => r.verdict), results.map((r) => r.tiers[0]?.reason).join(" | ")).toEqual(["pass", "pass", "pass", "pass"]);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(SMOKE_STREAM);
    expect(info.config.num_replicas).toBe(3);
    expect(info.state.messages).toBe(0);
    expect(info.state.consumer_count).toBe(0);
  });

  it("fails at once on a wrong password (no retries: waiting cannot fix it), never printing it", async () => {
    const wrong = "not-the-bus-password";
    const result = await smoke(endpoints({ password: wrong }));
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", attempts: 1 });
    expect(result.tiers[0]?.reason).toMatch(/^connect: .*authorization violation/i);
    expect(JSON.stringify(result)).not.toContain(wrong);
  });

  it("fails at the deadline when no server answers, saying so", async () => {
    const [a, b] = await freePorts(2);
    const result = await smoke(endpoints({ servers: [`nats://127.0.0.1:${a}`, `nats://127.0.0.1:${b}`], monitorUrls: undefined }), 3000);
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toMatch(/^not ready within 3 s \(\d+ attempts\): no server answered/);
  });

  it("fails the channels step naming a missing consumer group", async () => {
    const doc = endpoints();
    doc.channels = [{ name: "orders.placed", durable: true, consumerGroups: ["execution-engine", "ledger"] }];
    const result = await smoke(doc);
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toBe("channels: consumer `ledger` missing on stream ORDERS_PLACED");
  });
});

describe("faults", () => {
  it("node 0 down: degraded naming nats-0, judged from the other monitors; the replicated round passes", async () => {
    await cluster.nodes[0]!.stop();
    const result = await smoke(endpoints());
    expect(result.verdict, JSON.stringify(result.tiers[0])).toBe("degraded");
    expect(result.tiers[0]?.reason).toMatch(/^cluster: 2\/3 servers alive \(1 missing\): nats-0 down/);
    expect(stepOf(result, "jetstream-round")?.detail).toMatch(/^published, fetched and acked seq \d+ on BP_SMOKE \(R3/);
    expect(stepOf(result, "channels")?.verdict).toBe("pass");

    // The CLI: degraded passes (exit 0) unless --strict (exit 1); either way it names the node.
    const lenient = await smokeCli(endpoints(), ["--deadline", "20"]);
    expect(lenient.code, lenient.output).toBe(0);
    expect(lenient.output).toMatch(/nats-0 down/);
    const strict = await smokeCli(endpoints(), ["--deadline", "20", "--strict"]);
    expect(strict.code, strict.output).toBe(1);
    expect(strict.output).not.toContain(cluster.secrets.busPassword);
  });

  it("node 0 down and only node 0's monitorUrl known: still degraded naming nats-0 (the stream's replica view)", async () => {
    const result = await smoke(endpoints({ monitorUrls: undefined }));
    expect(result.verdict, JSON.stringify(result.tiers[0])).toBe("degraded");
    expect(stepOf(result, "cluster")?.detail).toMatch(/^no monitoring endpoint answered: http:\/\/127\.0\.0\.1:\d+ \(/);
    expect(stepOf(result, "jetstream-round")).toMatchObject({ verdict: "degraded", detail: expect.stringMatching(/replicas nats-0 offline/) });
  });

  it("nodes 0 and 1 down: quorum lost, fail within the deadline with the reason", async () => {
    await cluster.nodes[1]!.stop();
    const started = Date.now();
    const result = await smoke(endpoints(), QUORUM_DEADLINE_MS);
    const elapsed = Date.now() - started;
    expect(result.verdict).toBe("fail");
    expect(result.tiers[0]?.reason).toMatch(/^not ready within 6 s \(\d+ attempts\): JetStream quorum lost \(needs 2 of 3 servers\): 1\/3 servers alive \(2 missing\): nats-0, nats-1 down$/);
    expect(elapsed).toBeLessThan(QUORUM_DEADLINE_MS + 3000);

    const cli = await smokeCli(endpoints(), ["--deadline", String(QUORUM_DEADLINE_MS / 1000)]);
    expect(cli.code, cli.output).toBe(1);
    expect(cli.output).toMatch(/JetStream quorum lost \(needs 2 of 3 servers\)/);
  });
});
