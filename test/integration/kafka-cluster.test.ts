/**
 * Real KRaft clusters started from the Kafka tier's own rendered server.properties (local addressing):
 * 3 combined broker+controller nodes with SASL/SCRAM (as ci runs them) form, advertise addresses
 * clients can dial, take the channels' topics from the rendered init script (run for real against
 * Kafka's CLI classes), pass the probe and the smoke CLI, leave no probe groups behind, and report the
 * faults: one node down -> degraded naming it (acks=all still succeeds), two down -> fail within the
 * deadline. A node given a voter that never answers does not form; 3 dedicated controllers + 2
 * brokers (prod's shape) do, and pass the probe.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkaClusterId } from "../../components/kafka/model.js";
import { parseEndpoints, type Endpoints } from "../../healthchecks/endpoints.js";
import { kafkaProbe } from "../../healthchecks/kafka.js";
import type { Probe } from "../../healthchecks/probe.js";
import { ABORT_GRACE_MS, runSmoke, type RunResult } from "../../healthchecks/runner.js";
import type { TierName } from "../../healthchecks/endpoints.js";
import { startKafkaCluster, type KafkaHarness } from "../harness/kafka.js";
import { freePort } from "../harness/ports.js";

const ROOT = resolve(__dirname, "../..");
const run = promisify(execFile);
const PROBES: ReadonlyMap<TierName, Probe> = new Map([["kafka", kafkaProbe]]);
/** A healthy cluster answers in about a second; this only bounds a broken one. */
const PASS_DEADLINE_MS = 45 * 1000;
/** Two of three down: the probe must give its verdict within this. */
const FAULT_DEADLINE_MS = 30 * 1000;
const CHANNELS = [
  { name: "orders.placed", partitions: 3, consumerGroups: ["risk-engine"], retention: { maxAge: "1d" } },
  { name: "risk.alerts", retention: { maxAge: "30d", maxBytes: "64Mi" } },
];

const dir = mkdtempSync(join(tmpdir(), "bp-kafka-it-"));
const clients: Admin[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));
  rmSync(dir, { recursive: true, force: true });
});

function admin(cluster: KafkaHarness, password = cluster.password): Admin {
  const kafka = new Kafka({
    clientId: "it",
    brokers: cluster.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
    ...(password !== undefined && { sasl: { mechanism: "scram-sha-512" as const, username: "bus", password } }),
  });
  const client = kafka.admin();
  clients.push(client);
  return client;
}

interface CliRun {
  code: number;
  output: string;
  report: RunResult;
}

/** The smoke CLI as CI runs it, on this cluster's endpoints file; resolves with its exit code and JSON report. */
async function smokeCli(cluster: KafkaHarness, args: string[]): Promise<CliRun> {
  const file = join(dir, "endpoints.json");
  const report = join(dir, `report-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(cluster.endpoints()));
  const argv = ["--import", "tsx", join(ROOT, "healthchecks/cli.ts"), "--endpoints", file, "--tiers", "kafka", "--json", report, ...args];
  const { code, stdout, stderr } = await run(process.execPath, argv, { cwd: ROOT }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
  );
  const text = readFileSync(report, "utf8");
  if (cluster.password !== undefined) expect(`${stdout}${stderr}${text}`).not.toContain(cluster.password);
  // kafkajs's negative timer (healthchecks/kafkajs-timer-fix.ts) must not leak a Node warning into CI logs.
  expect(stderr).not.toContain("TimeoutNegativeWarning");
  return { code, output: `${stdout}${stderr}`, report: JSON.parse(text) as RunResult };
}

const smoke = (doc: Endpoints, deadlineMs = PASS_DEADLINE_MS): Promise<RunResult> => runSmoke({ endpoints: doc, tiers: ["kafka"], probes: PROBES, deadlineMs });
const steps = (result: RunResult) => Object.fromEntries(result.tiers[0]!.steps.map((s) => [s.name, s.verdict]));

describe("3 combined KRaft nodes with SASL/SCRAM, from the rendered configs", () => {
  let cluster: KafkaHarness;
  let client: Admin;
  const endpoints = (): Endpoints => parseEndpoints(cluster.endpoints());

  beforeAll(async () => {
    cluster = await startKafkaCluster({ kafka: { brokers: 3 }, channels: CHANNELS });
    client = admin(cluster);
    await client.connect();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("forms one cluster with the stage's cluster id, every broker advertising the address clients dial", async () => {
    const described = await client.describeCluster();
    expect(described.clusterId).toBe(kafkaClusterId("harness"));
    expect(described.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...cluster.brokers].sort());
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([0, 1, 2]);
  });

  it("refuses a client with the wrong password, and the probe fails naming authentication (no retrying)", async () => {
    await expect(admin(cluster, "wrong-password-1").connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed/);
    const doc = parseEndpoints({ ...cluster.endpoints(), kafka: { ...cluster.endpoint(), sasl: { mechanism: "scram-sha-512", username: "bus", password: "wrong-password-1" } } });
    const result = await smoke(doc);
    expect(result.tiers[0]!.verdict).toBe("fail");
    expect(result.tiers[0]!.reason).toMatch(/connect: .*authentication failed/i);
    expect(result.tiers[0]!.attempts).toBe(1);
  });

  it("runs the rendered topics script: creates the topics, changes nothing on a re-run, grows partitions", async () => {
    const first = await cluster.runTopicsScript();
    for (const topic of cluster.model.topics) expect(first.stdout).toContain(`topic ${topic.name}: created (${topic.partitions} partitions, replication factor 3)`);
    const metadata = await client.fetchTopicMetadata({ topics: cluster.model.topics.map((t) => t.name) });
    for (const topic of cluster.model.topics) {
      const partitions = metadata.topics.find((t) => t.name === topic.name)!.partitions;
      expect(partitions.map((p) => p.replicas.length), topic.name).toEqual(Array(topic.partitions).fill(3));
    }
    const configs = await client.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: "risk.alerts" }] });
    const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toMatchObject({ "retention.ms": String(30 * 86400 * 1000), "retention.bytes": String(64 * 1024 * 1024), "cleanup.policy": "delete", "min.insync.replicas": "2" });

    const again = await cluster.runTopicsScript();
    expect(again.stdout.trim()).toBe("topics ok");

    const grown = cluster.model.topics.map((t) => (t.name === "orders.placed" ? { ...t, partitions: 4, configs: { ...t.configs, "retention.ms": "7200000" } } : t));
    const third = await cluster.runTopicsScript(grown);
    expect(third.stdout).toContain("topic orders.placed: partitions 3 -> 4");
    expect(third.stdout).toContain("topic orders.placed: configs set to");
    const after = await client.fetchTopicMetadata({ topics: ["orders.placed"] });
    expect(after.topics[0]!.partitions).toHaveLength(4);
  });

  it("passes every probe step, and the smoke CLI exits 0 without printing the password", async () => {
    const result = await smoke(endpoints());
    expect(result.tiers[0]!.reason).toBeUndefined();
    expect(steps(result)).toEqual({ connect: "pass", cluster: "pass", controller: "pass", produce: "pass", fetch: "pass", "group-commit": "pass", partitions: "pass" });

    const cli = await smokeCli(cluster, ["--deadline", "45"]);
    expect(cli.code, cli.output).toBe(0);
    expect([cli.report.verdict, cli.report.tiers.map((t) => t.tier)]).toEqual(["pass", ["kafka"]]);
  });

  it("leaves no probe group behind and keeps the smoke topic's retention short", async () => {
    await Promise.all([smoke(endpoints()), smoke(endpoints())]).then((results) => results.forEach((r) => expect(r.verdict).toBe("pass")));
    const { groups } = await client.listGroups();
    expect(groups.filter((g) => g.groupId.startsWith("bp-smoke-"))).toEqual([]);
    const configs = await client.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: "bp.smoke" }] });
    const smokeConfigs = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    expect([smokeConfigs["retention.ms"], smokeConfigs["segment.ms"]]).toEqual(["600000", "600000"]);
  });

  it("one node down: the CLI reports degraded naming its address and the under-replicated partitions (exit 0, 1 with --strict); acks=all still succeeds", async () => {
    const address = cluster.brokers[2]!;
    await cluster.nodes[2]!.stop();
    const cli = await smokeCli(cluster, ["--deadline", "45"]);
    expect(cli.code, cli.output).toBe(0);
    const tier = cli.report.tiers[0]!;
    expect(tier.verdict).toBe("degraded");
    expect(steps(cli.report)).toMatchObject({ cluster: "degraded", controller: "pass", produce: "pass", fetch: "pass", "group-commit": "pass", partitions: "degraded" });
    expect(tier.reason).toContain(`2/3 brokers`);
    expect(tier.reason).toContain(`not in the metadata: ${address}`);
    expect(tier.reason).toMatch(/orders\.placed\[\d\] under-replicated \(ISR 2\/3, out of sync: node 2\)/);
    expect(cli.output).toContain(address);

    const strict = await smokeCli(cluster, ["--deadline", "45", "--strict"]);
    expect([strict.code, strict.report.verdict], strict.output).toEqual([1, "fail"]);
  });

  it("two nodes down: quorum and ISR gone, the CLI fails (exit 1) by the deadline, naming the refused write", async () => {
    await cluster.nodes[1]!.stop();
    const cli = await smokeCli(cluster, ["--deadline", String(FAULT_DEADLINE_MS / 1000)]);
    expect(cli.code, cli.output).toBe(1);
    // The run's own clock (not the CLI's start-up): the verdict came by the deadline, not after it.
    expect(cli.report.durationMs).toBeLessThanOrEqual(FAULT_DEADLINE_MS + ABORT_GRACE_MS);
    const tier = cli.report.tiers[0]!;
    expect(tier.verdict).toBe("fail");
    expect(tier.reason).toContain("1/3 brokers");
    // The write is refused (ISR 1 < min.insync.replicas 2) or finds no leader. The controller round
    // fails too, unless the survivor led the quorum and has not resigned yet (it answers a
    // validate-only request until its fetch timeout passes): the verdict never depends on it.
    expect(tier.reason).toMatch(/produce: .*(fewer in-sync replicas than required|timed out|leader)/);
  });
});

describe("a broken quorum does not form", () => {
  it("a node whose voter list names a controller that never answers stays without a leader, and the harness says so", async () => {
    const deadPort = await freePort();
    const start = startKafkaCluster({
      kafka: { brokers: 1, auth: { enabled: false } },
      channels: [],
      heapMb: 256,
      readyTimeoutMs: 30 * 1000,
      // Two voters, one of them nowhere: no majority, so no leader, so the broker never opens its listeners.
      tamper: (text) => text.replace(/^controller\.quorum\.voters=(.*)$/m, `controller.quorum.voters=$1,1@127.0.0.1:${deadPort}`),
    });
    // The JVM ran (its Raft client logged) and was stopped for not becoming ready: not a crash, not a slow start.
    await expect(start).rejects.toThrow(/did not form:\n.*not ready within 30000 ms[\s\S]*RaftManager id=0/);
  });
});

describe("3 dedicated controllers + 2 brokers (prod's shape), no auth", () => {
  let cluster: KafkaHarness;

  beforeAll(async () => {
    cluster = await startKafkaCluster({ kafka: { brokers: 2, controllers: 3, auth: { enabled: false } }, channels: [CHANNELS[0]!], heapMb: 256 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("forms: the brokers (node ids 3 and 4) register with the controller quorum and the probe passes", async () => {
    const client = admin(cluster);
    await client.connect();
    const described = await client.describeCluster();
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([3, 4]);
    await cluster.runTopicsScript();
    const result = await smoke(parseEndpoints(cluster.endpoints()));
    expect(result.tiers[0]!.reason).toBeUndefined();
    expect(result.verdict).toBe("pass");
  });
});
