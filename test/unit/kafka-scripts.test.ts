/**
 * The Kafka tier's rendered shell, executed for real with `sh` against stand-in Kafka tools that
 * record their arguments: the container start script (ordinal from the host name, first-start format
 * with the SCRAM user, then the broker) and the topics init script's create / grow / converge logic.
 * The integration suite runs the same topics script against a real cluster.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { renderStartScript } from "../../components/kafka/config.js";
import { kafkaModel, KAFKA_PORTS, type KafkaPaths } from "../../components/kafka/model.js";
import { renderTopicsScript } from "../../components/kafka/topics-script.js";
import type { KafkaTopic } from "../../components/kafka/topics.js";
import { parseStage } from "../../components/stage.js";
import { dockerAddressing } from "../../components/targets/addressing.js";

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bp-kafka-scripts-"));
  dirs.push(dir);
  return dir;
}

/** A stand-in tool: appends its argv (one line) to calls.log and prints `output` when given. */
function stubTool(bin: string, name: string, output = ""): void {
  writeFileSync(join(bin, `${name}.out`), output);
  writeFileSync(
    join(bin, name),
    `#!/bin/sh\nprintf '%s' "${name}" >> "${bin}/calls.log"\nfor a in "$@"; do printf ' [%s]' "$a" >> "${bin}/calls.log"; done\necho >> "${bin}/calls.log"\necho "heap=$KAFKA_HEAP_OPTS" >> "${bin}/env.log"\ncat "${bin}/${name}.out"\n`,
    { mode: 0o755 },
  );
}

const calls = (bin: string): string[] => (existsSync(join(bin, "calls.log")) ? readFileSync(join(bin, "calls.log"), "utf8").trim().split("\n") : []);

describe("start script", () => {
  function setup(sasl: boolean) {
    const dir = tempDir();
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const paths: KafkaPaths = { configDir: join(dir, "config"), credentialsFile: join(dir, "secrets", "credentials.properties"), logDir: () => join(dir, "data"), binDir: bin };
    mkdirSync(paths.configDir);
    mkdirSync(join(dir, "secrets"));
    const stage = parseStage("ci", { environment: "ci", target: "docker", tiers: ["kafka"], kafka: { brokers: 3, auth: { enabled: sasl }, resources: { memory: "768Mi" } } });
    const model = kafkaModel({
      stage,
      addressing: (pool) => dockerAddressing({ containerName: (i) => `bp-ci-${pool.name}-${i}`, ports: KAFKA_PORTS, published: { external: 19092 }, clientHost: "127.0.0.1" }),
      paths,
    });
    for (const i of [0, 1, 2]) writeFileSync(join(paths.configDir, `server-${i}.properties`), `node.id=${i}\n`);
    if (sasl) writeFileSync(paths.credentialsFile, "username=bus\npassword=S3cretPassw0rd\n");
    stubTool(bin, "kafka-storage.sh");
    stubTool(bin, "kafka-server-start.sh");
    const start = (hostname: string) => run("sh", ["-c", renderStartScript(model)], { env: { PATH: process.env.PATH, HOSTNAME: hostname } });
    return { bin, paths, model, start };
  }

  it.each([
    ["bp-ci-kafka-2", 2],
    ["kafka-broker-0", 0],
    ["kafka-controller-1", 1],
  ])("on host %s formats and starts with server-%i.properties", async (hostname, ordinal) => {
    const { bin, paths, model, start } = setup(false);
    await start(hostname);
    const config = join(paths.configDir, `server-${ordinal}.properties`);
    expect(calls(bin)).toEqual([
      `kafka-storage.sh [format] [--ignore-formatted] [--cluster-id] [${model.clusterId}] [--config] [${config}]`,
      `kafka-server-start.sh [${config}]`,
    ]);
    // A small heap for the one-shot format; the broker gets its sized heap.
    expect(readFileSync(join(bin, "env.log"), "utf8").trim().split("\n")).toEqual(["heap=-Xmx128m", "heap=-Xms384m -Xmx384m"]);
  });

  it("adds the SCRAM user at format time with the password read from the secret file", async () => {
    const { bin, start } = setup(true);
    await start("bp-ci-kafka-0");
    expect(calls(bin)[0]).toMatch(/ \[--add-scram\] \[SCRAM-SHA-512=\[name=bus,password=S3cretPassw0rd\]\]$/);
    expect(calls(bin)[1]).toMatch(/^kafka-server-start\.sh /);
  });

  it.each([
    ["a host name without an ordinal", "kafka", /no node ordinal at the end of HOSTNAME=kafka/],
    ["an ordinal without a config file", "bp-ci-kafka-7", /no .*server-7\.properties for this node/],
  ])("refuses %s and starts nothing", async (_what, hostname, message) => {
    const { bin, start } = setup(false);
    await expect(start(hostname)).rejects.toThrow(message);
    expect(calls(bin)).toEqual([]);
  });

  it("refuses to start when SASL is on and the secret file holds no password", async () => {
    const { bin, paths, start } = setup(true);
    writeFileSync(paths.credentialsFile, "username=bus\n");
    await expect(start("bp-ci-kafka-0")).rejects.toThrow(/no password in/);
    expect(calls(bin)).toEqual([]);
  });
});

describe("topics script", () => {
  const topics: KafkaTopic[] = [
    { name: "orders.placed", partitions: 6, replicationFactor: 3, configs: { "cleanup.policy": "delete", "retention.ms": "86400000" } },
    { name: "risk.alerts", partitions: 1, replicationFactor: 3, configs: { "cleanup.policy": "delete", "retention.ms": "600000" } },
  ];

  /** Runs the script with `kafka-topics.sh --describe` answering `described`. */
  async function runWith(described: string, commandConfig?: string) {
    const bin = join(tempDir(), "bin");
    mkdirSync(bin);
    stubTool(bin, "kafka-topics.sh", described);
    stubTool(bin, "kafka-configs.sh");
    const script = renderTopicsScript({ topics, bootstrap: [{ host: "bp-ci-kafka-0", port: 9092 }, { host: "bp-ci-kafka-1", port: 9092 }], binDir: bin, commandConfig });
    const { stdout, stderr } = await run("sh", ["-c", script]);
    return { calls: calls(bin), stdout, stderr };
  }
  const summary = (name: string, partitions: number, configs: string) =>
    `Topic: ${name}\tTopicId: abc\tPartitionCount: ${partitions}\tReplicationFactor: 3\tConfigs: ${configs}\n\tTopic: ${name}\tPartition: 0\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,2,0\n`;
  const BOOT = "[--bootstrap-server] [bp-ci-kafka-0:9092,bp-ci-kafka-1:9092]";

  it("creates every missing topic with its partitions, replication factor and configs", async () => {
    const result = await runWith("", "/botplatform-task/client.properties");
    expect(result.calls).toEqual([
      `kafka-topics.sh ${BOOT} [--command-config] [/botplatform-task/client.properties] [--describe] [--exclude-internal]`,
      `kafka-topics.sh ${BOOT} [--command-config] [/botplatform-task/client.properties] [--create] [--if-not-exists] [--topic] [orders.placed] [--partitions] [6] [--replication-factor] [3] [--config] [cleanup.policy=delete] [--config] [retention.ms=86400000]`,
      `kafka-topics.sh ${BOOT} [--command-config] [/botplatform-task/client.properties] [--create] [--if-not-exists] [--topic] [risk.alerts] [--partitions] [1] [--replication-factor] [3] [--config] [cleanup.policy=delete] [--config] [retention.ms=600000]`,
    ]);
    expect(result.stdout).toContain("topic orders.placed: created (6 partitions, replication factor 3)");
    expect(result.stdout.trim().split("\n").at(-1)).toBe("topics ok");
  });

  it("changes nothing when every topic is as configured (one describe, nothing else)", async () => {
    const result = await runWith(summary("orders.placed", 6, "cleanup.policy=delete,retention.ms=86400000") + summary("risk.alerts", 1, "cleanup.policy=delete,retention.ms=600000"));
    expect(result.calls).toEqual([`kafka-topics.sh ${BOOT} [--describe] [--exclude-internal]`]);
  });

  it("grows partitions, converges configs, never shrinks or deletes", async () => {
    const result = await runWith(summary("orders.placed", 3, "cleanup.policy=delete,retention.ms=3600000") + summary("risk.alerts", 4, "cleanup.policy=delete,retention.ms=600000,segment.ms=100"));
    expect(result.calls).toEqual([
      `kafka-topics.sh ${BOOT} [--describe] [--exclude-internal]`,
      `kafka-topics.sh ${BOOT} [--alter] [--topic] [orders.placed] [--partitions] [6]`,
      `kafka-configs.sh ${BOOT} [--alter] [--entity-type] [topics] [--entity-name] [orders.placed] [--add-config] [cleanup.policy=delete,retention.ms=86400000]`,
    ]);
    expect(result.stdout).toContain("topic orders.placed: partitions 3 -> 6");
    expect(result.stderr).toContain("topic risk.alerts: has 4 partitions, more than the 1 configured");
  });

  it("does not take one topic's name for a prefix of another's", async () => {
    const result = await runWith(summary("orders.placed.v2", 6, "cleanup.policy=delete,retention.ms=86400000") + summary("risk.alerts", 1, "cleanup.policy=delete,retention.ms=600000"));
    expect(result.calls.filter((c) => c.includes("[--create]"))).toEqual([expect.stringContaining("[--topic] [orders.placed] ")]);
  });

  it("fails when a tool fails (set -e), so the init task fails the deploy", async () => {
    const bin = join(tempDir(), "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "kafka-topics.sh"), "#!/bin/sh\necho 'Timed out waiting for a node assignment' >&2\nexit 1\n", { mode: 0o755 });
    stubTool(bin, "kafka-configs.sh");
    const script = renderTopicsScript({ topics, bootstrap: [{ host: "b", port: 9092 }], binDir: bin });
    await expect(run("sh", ["-c", script])).rejects.toThrow(/Timed out waiting for a node assignment/);
  });
});
