/**
 * Real KRaft clusters started from the Kafka tier's own rendered server.properties (local addressing):
 * 3 combined broker+controller nodes with SASL/SCRAM (as ci runs them) form, advertise addresses
 * clients can dial, take the channels' topics from the rendered init script (run for real against
 * Kafka's CLI classes), pass the probe and the smoke CLI, leave no probe groups behind, and report the
 * faults: one node down -> degraded naming it (acks=all still succeeds), two down -> fail within the
 * deadline. Then 3 dedicated controllers + 2 brokers (prod's shape) form and pass the probe.
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
import { runSmoke, type RunResult } from "../../healthchecks/runner.js";
import type { TierName } from "../../healthchecks/endpoints.js";
import { startKafkaCluster, type KafkaHarness } from "../harness/kafka.js";

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

    const file = join(dir, "endpoints.json");
    writeFileSync(file, JSON.stringify(cluster.endpoints()));
    const report = join(dir, "report.json");
    const cli = await run(process.execPath, ["--import", "tsx", join(ROOT, "healthchecks/cli.ts"), "--endpoints", file, "--tiers", "kafka", "--deadline", "45", "--json", report], { cwd: ROOT });
    expect(`${cli.stdout}${cli.stderr}`).not.toContain(cluster.password!);
    const written = JSON.parse(readFileSync(report, "utf8")) as RunResult;
    expect([written.verdict, written.tiers.map((t) => t.tier)]).toEqual(["pass", ["kafka"]]);
    expect(readFileSync(report, "utf8")).not.toContain(cluster.password!);
  });

  it("leaves no probe group behind and keeps the smoke topic's retention short", async () => {
    await Promise.all([smoke(endpoints()), smoke(endpoints())]).then((results) => results.forEach((r) => expect(r.verdict).toBe("pass")));
    const { groups } = await client.listGroups();
    expect(groups.filter((g) => g.groupId.startsWith("bp-smoke-"))).toEqual([]);
    const configs = await client.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: "bp.smoke" }] });
    expect(configs.resources[0]!.configEntries.find((e) => e.configName === "retention.ms")?.configValue).toBe("600000");
  });

  it("one node down: degraded naming its address and the under-replicated partitions; acks=all still succeeds", async () => {
    const down = cluster.nodes[2]!;
    const address = cluster.brokers[2]!;
    await down.stop();
    const result = await smoke(endpoints());
    const tier = result.tiers[0]!;
    expect(tier.verdict).toBe("degraded");
    expect(steps(result)).toMatchObject({ cluster: "degraded", controller: "pass", produce: "pass", fetch: "pass", "group-commit": "pass", partitions: "degraded" });
    expect(tier.reason).toContain(`2/3 brokers`);
    expect(tier.reason).toContain(`not in the metadata: ${address}`);
    expect(tier.reason).toMatch(/orders\.placed\[\d\] under-replicated \(ISR 2\/3, out of sync: node 2\)/);
  });

  it("two nodes down: the quorum and the ISR are gone, fail within the deadline with the reason", async () => {
    await cluster.nodes[1]!.stop();
    const started = Date.now();
    const result = await smoke(endpoints(), FAULT_DEADLINE_MS);
    expect(Date.now() - started).toBeLessThan(FAULT_DEADLINE_MS + 5000);
    const tier = result.tiers[0]!;
    expect(tier.verdict).toBe("fail");
    expect(tier.reason).toMatch(/controller: .*(timed out|controller)/);
    expect(tier.reason).toMatch(/produce: /);
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
