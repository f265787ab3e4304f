/**
 * Real RabbitMQ nodes started from the RabbitMQ tier's own rendered files (test/harness/rabbitmq.ts):
 * the ci stage's 3-node cluster forms, imports its definitions once complete (every channel queue a
 * quorum queue with a member on every node), routes and dead-letters, passes the probe and the smoke
 * CLI, and reports the fault cases: the node behind `url` down -> degraded naming it (the quorum round
 * still passes), back -> pass, a second node down -> fail within the deadline. A node with the wrong
 * Erlang cookie never joins: the cluster does not form. One node from the default settings works too.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect, type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_LETTER_QUEUE, EVENTS_EXCHANGE, VHOST } from "../../components/rabbitmq/topology.js";
import { parseStage, type Stage } from "../../components/stage.js";
import { parseEndpoints, type Endpoints } from "../../healthchecks/endpoints.js";
import { ABORT_GRACE_MS, runSmoke, type RunResult } from "../../healthchecks/runner.js";
import { readStackFile } from "../../tools/stack-file.js";
import { startRabbitmqCluster, type RabbitmqCluster } from "../harness/rabbitmq.js";

const ROOT = resolve(__dirname, "../..");
/** A healthy cluster answers in well under a second; this only bounds a broken one. */
const PASS_DEADLINE_MS = 20 * 1000;
/** Lost quorum is reported by the deadline at the latest: short, to keep the suite fast. */
const FAIL_DEADLINE_MS = 8 * 1000;

const dir = mkdtempSync(join(tmpdir(), "bp-rabbitmq-it-"));
const ci: Stage = parseStage("ci", readStackFile("ci").stageConfig);

function endpointsOf(cluster: RabbitmqCluster, stage: Stage, overrides: Record<string, unknown> = {}): Endpoints {
  return parseEndpoints({
    version: 1,
    stage: stage.name,
    rabbitmq: { ...cluster.endpoint, ...overrides },
    channels: stage.channels.map((c) => ({ name: c.name, durable: c.durable, consumerGroups: c.consumerGroups })),
  });
}

const smoke = (doc: Endpoints, deadlineMs = PASS_DEADLINE_MS): Promise<RunResult> => runSmoke({ endpoints: doc, tiers: ["rabbitmq"], deadlineMs });
const steps = (result: RunResult): Record<string, string> => Object.fromEntries((result.tiers[0]?.steps ?? []).map((s) => [s.name, s.verdict]));

interface CliRun {
  code: number | null;
  output: string;
}

/** The smoke CLI in a child process, as CI runs it. */
function cli(doc: Endpoints, name: string, extra: string[] = []): Promise<CliRun & { report: { verdict: string } }> {
  const file = join(dir, `${name}.json`);
  const report = join(dir, `${name}-report.json`);
  writeFileSync(file, JSON.stringify(doc));
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "healthchecks/cli.ts"), "--endpoints", file, "--tiers", "rabbitmq", "--json", report, ...extra], {
    cwd: ROOT,
    env: { ...process.env, CI: "true", GITHUB_STEP_SUMMARY: "" },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done) => child.on("close", (code) => done({ code, output, report: JSON.parse(readFileSync(report, "utf8")) as { verdict: string } })));
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the ci stage's 3-node cluster", () => {
  let cluster: RabbitmqCluster;
  let amqp: ChannelModel | undefined;

  beforeAll(async () => {
    cluster = await startRabbitmqCluster({ stack: ci.name, settings: ci.rabbitmq, channels: ci.channels });
  });

  afterAll(async () => {
    await amqp?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it("forms: every node lists the same three running members, named as the model names them", async () => {
    const names = cluster.model.nodes.map((n) => n.erlangNode).sort();
    expect(names).toEqual(["rabbitmq-0@127.0.0.1", "rabbitmq-1@127.0.0.1", "rabbitmq-2@127.0.0.1"]);
    for (const node of cluster.nodes) {
      const listed = await cluster.api<{ name: string; running: boolean }[]>("/api/nodes?columns=name,running", node.index);
      expect(listed.map((n) => n.name).sort()).toEqual(names);
      expect(listed.every((n) => n.running)).toBe(true);
    }
  });

  it("imports the definitions once complete: each channel queue is a quorum queue on all three nodes, under its policy", async () => {
    type Queue = { name: string; type: string; members: string[]; policy?: string };
    // `policy` comes with the queue statistics, emitted every few seconds: wait for them.
    let queues: Queue[] = [];
    for (let i = 0; i < 60 && !(queues.length > 0 && queues.every((q) => q.policy !== undefined)); i++, await new Promise((r) => setTimeout(r, 500))) {
      queues = await cluster.api<Queue[]>(`/api/queues/${VHOST}?columns=name,type,members,policy`);
    }
    const expected = cluster.model.topology.queues.map((q) => q.name).sort();
    expect(queues.map((q) => q.name).sort()).toEqual(expected);
    for (const queue of queues) {
      expect(queue.type, queue.name).toBe("quorum");
      expect([...queue.members].sort(), queue.name).toEqual(cluster.model.nodes.map((n) => n.erlangNode).sort());
      expect(queue.policy, queue.name).toBe(queue.name === DEAD_LETTER_QUEUE ? "bp-dead-letters" : `bp-channel-${queue.name.slice(0, queue.name.lastIndexOf("."))}`);
    }
    expect(await cluster.api("/api/whoami")).toMatchObject({ name: "bus", tags: ["monitoring"] });
    // No default `guest` user: a node that loads definitions at boot never creates it.
    const guest = await fetch(`${cluster.endpoint.managementUrl}/api/whoami`, { headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` } });
    expect(guest.status).toBe(401);
  });

  it("routes an event to every consumer group of its channel and dead-letters it past the delivery limit", async () => {
    amqp = await connect(cluster.endpoint.url);
    const channel = await amqp.createConfirmChannel();
    const body = Buffer.from(`it-${Date.now()}`);
    await new Promise<void>((done, fail) => channel.publish(EVENTS_EXCHANGE, "orders.placed", body, { persistent: true, mandatory: true }, (err: unknown) => (err ? fail(new Error("nacked")) : done())));
    for (const group of ["execution-engine", "risk-engine"]) {
      const message = await channel.get(`orders.placed.${group}`, { noAck: true });
      expect(message && message.content.toString(), group).toBe(body.toString());
    }
    // A poison message: every delivery is rejected with requeue, until the limit sends it to the DLX.
    await new Promise<void>((done, fail) => channel.publish(EVENTS_EXCHANGE, "risk.alerts", body, { persistent: true }, (err: unknown) => (err ? fail(new Error("nacked")) : done())));
    let deliveries = 0;
    for (let message = await channel.get("risk.alerts.notifier"); message !== false; message = await channel.get("risk.alerts.notifier")) {
      deliveries++;
      channel.nack(message, false, true);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(deliveries).toBe(ci.rabbitmq!.deliveryLimit + 1);
    let dead: Awaited<ReturnType<typeof channel.get>> = false;
    for (let i = 0; i < 50 && dead === false; i++, await new Promise((r) => setTimeout(r, 100))) dead = await channel.get(DEAD_LETTER_QUEUE, { noAck: true });
    expect(dead && dead.content.toString()).toBe(body.toString());
    expect(dead && dead.fields.routingKey).toBe("risk.alerts");
    await channel.close();
  });

  it("passes the probe: connect, cluster, quorum round and channel queues", async () => {
    const result = await smoke(endpointsOf(cluster, ci));
    expect(result.tiers[0]?.reason).toBeUndefined();
    expect(steps(result)).toEqual({ connect: "pass", cluster: "pass", "quorum-round": "pass", channels: "pass" });
  });

  it("passes the smoke CLI (exit 0) and leaves no smoke queue behind", async () => {
    const run = await cli(endpointsOf(cluster, ci), "healthy");
    expect(run.code, run.output).toBe(0);
    expect(run.report.verdict).toBe("pass");
    expect(run.output).not.toContain(cluster.password);
    const queues = await cluster.api<{ name: string }[]>(`/api/queues/${VHOST}?columns=name`);
    expect(queues.filter((q) => q.name.startsWith("bp-smoke-"))).toEqual([]);
  });

  it("fails a wrong password by the deadline, naming the refusal and never printing the password", async () => {
    const url = new URL(cluster.endpoint.url);
    url.password = "wrong-password-42";
    const run = await cli(endpointsOf(cluster, ci, { url: url.toString() }), "wrong-password", ["--deadline", "4"]);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/ACCESS[-_]REFUSED/);
    expect(run.output).not.toContain("wrong-password-42");
  });

  it("is degraded, naming the node, when the node behind `url` is down; the quorum round still passes", async () => {
    const down = cluster.nodes[0]!;
    await down.stop();
    const result = await smoke(endpointsOf(cluster, ci));
    const tier = result.tiers[0]!;
    expect(tier.verdict).toBe("degraded");
    expect(tier.reason).toBe(`cluster: 2/3 nodes running: ${down.erlangNode} is down`);
    expect(steps(result)).toEqual({ connect: "pass", cluster: "degraded", "quorum-round": "pass", channels: "pass" });
    expect(tier.steps[0]?.detail).toContain(`after 127.0.0.1:${down.amqpPort}`);
    // The smoke queue goes even so: its delete completes once the survivors agree, x-expires backs it up.
    let leftovers: string[] = [];
    for (let i = 0; i < 40; i++, await new Promise((r) => setTimeout(r, 250))) {
      leftovers = (await cluster.api<{ name: string }[]>(`/api/queues/${VHOST}?columns=name`, 1)).map((q) => q.name).filter((q) => q.startsWith("bp-smoke-"));
      if (leftovers.length === 0) break;
    }
    expect(leftovers).toEqual([]);
    const strict = await cli(endpointsOf(cluster, ci), "degraded-strict", ["--strict"]);
    expect(strict.code, strict.output).toBe(1);
    expect(strict.report.verdict).toBe("fail");
  });

  it("passes again once the node is back: it restarts with its data and rejoins", async () => {
    await cluster.nodes[0]!.start();
    await cluster.waitForRunning(3);
    const run = await cli(endpointsOf(cluster, ci), "rejoined");
    expect(run.code, run.output).toBe(0);
  });

  it("is degraded when a node crashes (SIGKILL), and fails within the deadline when a second one goes", async () => {
    const crashed = cluster.nodes[1]!;
    await crashed.kill();
    const degraded = await smoke(endpointsOf(cluster, ci));
    expect(degraded.tiers[0]?.verdict).toBe("degraded");
    expect(degraded.tiers[0]?.reason).toContain(`${crashed.erlangNode} is down`);

    await cluster.nodes[2]!.stop();
    const failed = await smoke(endpointsOf(cluster, ci), FAIL_DEADLINE_MS);
    const tier = failed.tiers[0]!;
    expect(tier.verdict).toBe("fail");
    expect(tier.durationMs).toBeLessThanOrEqual(FAIL_DEADLINE_MS + ABORT_GRACE_MS);
    // Either the survivor still answers and reports the lost quorum, or it has paused (pause_minority) and nothing answers.
    expect(tier.reason).toMatch(/quorum lost: 1\/3 nodes running|no RabbitMQ node accepts AMQP connections/);
    const run = await cli(endpointsOf(cluster, ci), "two-down", ["--deadline", String(FAIL_DEADLINE_MS / 1000)]);
    expect(run.code, run.output).toBe(1);
  });
});

// Two independent clusters: booting them side by side saves a node boot's worth of wall time.
describe.concurrent("formation", () => {
  it("does not form when a node's Erlang cookie differs from the one the cluster shares", async ({ expect }) => {
    const start = startRabbitmqCluster({ stack: ci.name, settings: ci.rabbitmq, channels: [], cookieFor: (node, cookie) => (node === 2 ? `${cookie}X` : cookie), formTimeoutMs: 8 * 1000 });
    await expect(start).rejects.toThrow(/did not reach 3 running nodes .*2\/2 running/);
  });

  it("runs one node from the default settings, and the probe passes with clusterSize 1", async ({ expect }) => {
    const stage = parseStage("solo", { environment: "dev", target: "docker", tiers: ["rabbitmq"], channels: [{ name: "signals", consumerGroups: ["engine"] }] });
    const cluster = await startRabbitmqCluster({ stack: stage.name, settings: stage.rabbitmq, channels: stage.channels });
    try {
      const result = await smoke(endpointsOf(cluster, stage));
      expect(result.tiers[0]?.reason).toBeUndefined();
      expect(result.tiers[0]?.steps.find((s) => s.name === "cluster")?.detail).toContain("1/1 nodes running");
    } finally {
      await cluster.stop();
    }
  });
});
