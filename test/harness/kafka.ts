/**
 * Real KRaft clusters on 127.0.0.1 for tests, from the Kafka tier's OWN model and rendered
 * server.properties (components/kafka) with local addressing: a wrong listener, advertised address or
 * quorum voter shows up here as a cluster that does not form. Nothing is added on top of the rendered
 * files; the harness only picks ports and temp dirs (through the model's addressing and paths).
 *
 * Runs the jars that scripts/install/kafka.sh put in .cache/kafka-<version>/libs with the machine's
 * Java: storage format (`kafka.tools.StorageTool`, as `kafka-storage.sh` does), then `kafka.Kafka`.
 * The topics init script runs for real too, through wrappers standing in for `kafka-topics.sh` and
 * `kafka-configs.sh`.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseStage, type Stage } from "../../components/stage.js";
import { localAddressing } from "../../components/targets/addressing.js";
import { renderClientProperties, renderCredentialsFile, renderServerProperties } from "../../components/kafka/config.js";
import { KAFKA_SASL_USER, kafkaModel, kafkaPools, KAFKA_PORTS, type KafkaModel, type KafkaNode, type KafkaPaths } from "../../components/kafka/model.js";
import { kafkaSettings } from "../../components/kafka/settings.js";
import { renderTopicsScript } from "../../components/kafka/topics-script.js";
import type { KafkaTopic } from "../../components/kafka/topics.js";
import { LOCALHOST, freePorts } from "./ports.js";
import { makeTempDir, startProcess, type ManagedProcess } from "./process.js";

const run = promisify(execFile);

/** The version scripts/install/kafka.sh installs by default: the tier's default `version`. */
export const KAFKA_HARNESS_VERSION = process.env.KAFKA_VERSION ?? kafkaSettings.parse({}).version;
const REPO_ROOT = resolve(__dirname, "..", "..");
export const KAFKA_LIBS = process.env.KAFKA_LIBS ?? join(REPO_ROOT, ".cache", `kafka-${KAFKA_HARNESS_VERSION}`, "libs");
const JAVA = process.env.KAFKA_HARNESS_JAVA ?? "java";

/** Small heaps: three brokers and the tests share two cores. */
export const DEFAULT_BROKER_HEAP_MB = 384;
/** JVMs plus a quorum forming on a busy 2-core box (seen: > 90 s with five JVMs at load 60+). */
const READY_TIMEOUT_MS = 150 * 1000;
const TCP_CHECK_TIMEOUT_MS = 500;
const READY_POLL_MS = 250;
/** SIGTERM lets a broker hand off its partitions (controlled shutdown) before it exits. */
const NODE_STOP_GRACE_MS = 15 * 1000;
/** C1 only, serial GC: the brokers start faster and leave CPU to the other nodes and the tests. */
const JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Djava.awt.headless=true"];

export interface StartKafkaOptions {
  /** Kafka settings as a stack file would give them. @default { brokers: 3 } */
  kafka?: Record<string, unknown>;
  /** Channels as a stack file would give them. @default the platform's default channels */
  channels?: unknown[];
  /** @default "ci" (throw-away: no auth needed, no first-rebalance delay) */
  environment?: "ci" | "staging" | "prod";
  /** The SCRAM password when `kafka.auth.enabled` (the default). @default a fixed test password */
  password?: string;
  heapMb?: number;
  /** Fault injection for tests that prove a broken config does not form: edits a node's rendered file. */
  tamper?: (properties: string, node: KafkaNode) => string;
  /** How long every node may take to open its health listener. @default READY_TIMEOUT_MS */
  readyTimeoutMs?: number;
}

export interface HarnessKafkaNode {
  node: KafkaNode;
  process: ManagedProcess;
  /** Graceful stop (controlled shutdown), then SIGKILL after the grace period. */
  stop(): Promise<void>;
}

export interface KafkaHarness {
  stage: Stage;
  model: KafkaModel;
  nodes: HarnessKafkaNode[];
  /** `host:port` of every broker's EXTERNAL listener, as the endpoints contract lists them. */
  brokers: string[];
  password?: string;
  /** The `kafka` block of the endpoints contract for this cluster. */
  endpoint(): { brokers: string[]; clusterSize: number; sasl?: { mechanism: "scram-sha-512"; username: string; password: string } };
  /** A full endpoints document (version 1) with this cluster and the stage's channels. */
  endpoints(): Record<string, unknown>;
  /** Runs the tier's rendered topics init script against the cluster; resolves with its stdout. */
  runTopicsScript(topics?: readonly KafkaTopic[]): Promise<{ stdout: string; stderr: string }>;
  /** Kills every node at once (no controlled shutdown) and removes the temp dirs. */
  stop(): Promise<void>;
}

export function kafkaInstalled(): boolean {
  return existsSync(join(KAFKA_LIBS, `kafka_2.13-${KAFKA_HARNESS_VERSION}.jar`));
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: LOCALHOST, port, timeout: TCP_CHECK_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

const LOG4J2_XML = (level: string, target: "SYSTEM_OUT" | "SYSTEM_ERR"): string => `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="out" target="${target}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers><Root level="${level}"><AppenderRef ref="out"/></Root></Loggers>
</Configuration>
`;

/** True when `jar` holds `entry`: zip keeps entry names uncompressed in its central directory. */
function jarHas(jar: string, entry: string): boolean {
  return existsSync(jar) && readFileSync(jar).includes(entry);
}

/** Stand-ins for the image's `kafka-topics.sh` / `kafka-configs.sh`, honouring the same env vars. */
function writeToolWrappers(dir: string, log4j: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  // ConfigCommand moved from core (Scala) to kafka-tools in later 4.x releases.
  const configCommand = jarHas(join(KAFKA_LIBS, `kafka-tools-${KAFKA_HARNESS_VERSION}.jar`), "org/apache/kafka/tools/ConfigCommand.class")
    ? "org.apache.kafka.tools.ConfigCommand"
    : "kafka.admin.ConfigCommand";
  const tools: Record<string, string> = { "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand", "kafka-configs.sh": configCommand };
  for (const [file, mainClass] of Object.entries(tools)) {
    const script = `#!/bin/sh\nexec ${JAVA} \${KAFKA_HEAP_OPTS:-} \${KAFKA_JVM_PERFORMANCE_OPTS:-} -Dlog4j2.configurationFile=${log4j} -cp '${KAFKA_LIBS}/*' ${mainClass} "$@"\n`;
    writeFileSync(join(bin, file), script, { mode: 0o755 });
  }
  return bin;
}

/** Builds the stage the same way a stack file would, and the model with 127.0.0.1 ports. */
async function planCluster(options: StartKafkaOptions, dir: string): Promise<{ stage: Stage; model: KafkaModel }> {
  const raw: Record<string, unknown> = {
    environment: options.environment ?? "ci",
    target: "docker",
    tiers: ["kafka"],
    kafka: options.kafka ?? { brokers: 3 },
    ...(options.channels && { channels: options.channels }),
  };
  const stage = parseStage("harness", raw);
  const layouts = kafkaPools(stage.kafka!);
  const keys = Object.keys(KAFKA_PORTS) as (keyof typeof KAFKA_PORTS)[];
  const total = layouts.reduce((sum, pool) => sum + pool.size, 0) * keys.length;
  const ports = await freePorts(total);
  const byPool = new Map(
    layouts.map((pool) => [pool.name, Object.fromEntries(keys.map((key) => [key, Array.from({ length: pool.size }, () => ports.shift()!)]))]),
  );
  const paths: KafkaPaths = {
    configDir: dir,
    credentialsFile: join(dir, "credentials.properties"),
    logDir: (node) => join(dir, node.name, "data"),
    binDir: join(dir, "bin"),
  };
  const model = kafkaModel({ stage, addressing: (pool) => localAddressing({ tier: pool.name, ports: byPool.get(pool.name)! }), paths });
  return { stage, model };
}

async function formatStorage(model: KafkaModel, configFile: string, log4j: string, password: string | undefined): Promise<void> {
  const scram = password === undefined ? [] : ["--add-scram", `SCRAM-SHA-512=[name=${KAFKA_SASL_USER},password=${password}]`];
  await run(JAVA, ["-Xmx128m", ...JVM_FLAGS, `-Dlog4j2.configurationFile=${log4j}`, "-cp", `${KAFKA_LIBS}/*`, "kafka.tools.StorageTool", "format", "--ignore-formatted", "--cluster-id", model.clusterId, "--config", configFile, ...scram]);
}

const DEFAULT_PASSWORD = "harness-Secret-1";

export async function startKafkaCluster(options: StartKafkaOptions = {}): Promise<KafkaHarness> {
  if (!kafkaInstalled()) throw new Error(`Kafka ${KAFKA_HARNESS_VERSION} jars are missing in ${KAFKA_LIBS}: run scripts/install/kafka.sh`);
  const dir = makeTempDir("kafka-cluster");
  const started: HarnessKafkaNode[] = [];
  const cleanup = async (): Promise<void> => {
    for (const n of started) n.process.child.kill("SIGKILL");
    await Promise.all(started.map((n) => n.process.stop()));
    if (process.env.BP_KEEP_HARNESS_DIRS !== "1") rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { stage, model } = await planCluster(options, dir);
    const password = model.sasl ? (options.password ?? DEFAULT_PASSWORD) : undefined;
    const serverLog4j = join(dir, "log4j2-server.xml");
    const toolLog4j = join(dir, "log4j2-tools.xml");
    writeFileSync(serverLog4j, LOG4J2_XML("INFO", "SYSTEM_OUT"));
    writeFileSync(toolLog4j, LOG4J2_XML("WARN", "SYSTEM_ERR"));
    if (password !== undefined) writeFileSync(model.paths.credentialsFile, renderCredentialsFile(password), { mode: 0o600 });
    writeToolWrappers(dir, toolLog4j);
    const clientProperties = join(dir, "client.properties");
    writeFileSync(clientProperties, renderClientProperties(model, password), { mode: 0o600 });

    // Format every node (as the start script does on first start), in parallel.
    const configs = model.nodes.map((node) => {
      mkdirSync(join(dir, node.name), { recursive: true });
      const file = join(dir, node.name, "server.properties");
      const rendered = renderServerProperties(model, node);
      writeFileSync(file, options.tamper ? options.tamper(rendered, node) : rendered);
      return { node, file };
    });
    await Promise.all(configs.map(({ file }) => formatStorage(model, file, serverLog4j, password)));

    // All nodes start at once: a broker opens its listeners only once the quorum has formed.
    const heap = `-Xmx${options.heapMb ?? DEFAULT_BROKER_HEAP_MB}m`;
    const starts = configs.map(async ({ node, file }) => {
      const pool = model.pools.find((p) => p.name === node.pool)!;
      const healthPort = node.listeners.find((l) => l.key === pool.healthListener)!.bind.port;
      const proc = await startProcess({
        name: node.name,
        command: JAVA,
        args: [heap, ...JVM_FLAGS, `-Dlog4j2.configurationFile=${serverLog4j}`, "-cp", `${KAFKA_LIBS}/*`, "kafka.Kafka", file],
        ready: () => tcpAccepts(healthPort),
        readyTimeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        pollIntervalMs: READY_POLL_MS,
        stopGraceMs: NODE_STOP_GRACE_MS,
      });
      const harnessNode: HarnessKafkaNode = { node, process: proc, stop: () => proc.stop() };
      started.push(harnessNode);
      return harnessNode;
    });
    const settled = await Promise.allSettled(starts);
    // Every node's own failure (with its log tail): the node that broke the quorum is often not the first to time out.
    const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason instanceof Error ? s.reason.message : String(s.reason)] : []));
    if (failures.length > 0) throw new Error(`the Kafka cluster did not form:\n${failures.join("\n---\n")}`);
    const nodes = model.nodes.map((node) => started.find((s) => s.node.id === node.id)!);

    const brokers = model.bootstrap.map((b) => `${b.host}:${b.port}`);
    const endpoint = () => ({
      brokers,
      clusterSize: model.brokerCount,
      ...(password !== undefined && { sasl: { mechanism: "scram-sha-512" as const, username: KAFKA_SASL_USER, password } }),
    });
    return {
      stage,
      model,
      nodes,
      brokers,
      password,
      endpoint,
      endpoints: () => ({
        version: 1,
        stage: stage.name,
        kafka: endpoint(),
        channels: stage.channels.map((c) => ({ name: c.name, durable: c.durable, partitions: c.partitions, consumerGroups: c.consumerGroups })),
      }),
      runTopicsScript: async (topics = model.topics) => {
        const scriptFile = join(dir, "topics.sh");
        writeFileSync(scriptFile, renderTopicsScript({ topics, bootstrap: model.inTargetBootstrap, binDir: model.paths.binDir, commandConfig: clientProperties }));
        return run("sh", [scriptFile], { cwd: dir, timeout: 120 * 1000 });
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
