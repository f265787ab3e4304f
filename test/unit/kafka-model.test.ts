/**
 * The Kafka tier's pure model and rendered server.properties: pools and node ids, listeners and what
 * they advertise per target, the quorum, replication defaults, the cluster id, SASL wiring, topics.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseStage, type Stage } from "../../components/stage.js";
import { dockerAddressing, kubernetesAddressing, localAddressing } from "../../components/targets/addressing.js";
import { renderClientProperties, renderCredentialsFile, renderServerProperties, saslPasswordProblems, serverProperties } from "../../components/kafka/config.js";
import {
  KAFKA_PORTS,
  kafkaClusterId,
  kafkaHeapMb,
  kafkaModel,
  kafkaPools,
  kafkaReplication,
  type KafkaModel,
  type KafkaPoolLayout,
} from "../../components/kafka/model.js";
import { kafkaSettings } from "../../components/kafka/settings.js";
import { channelTopic, kafkaTopics, KAFKA_SMOKE_TOPIC } from "../../components/kafka/topics.js";
import { StageValidationError } from "../../components/errors/stage-validation-error.js";

const stageWith = (kafka: Record<string, unknown>, extra: Record<string, unknown> = {}): Stage =>
  parseStage("ci", { environment: "ci", target: "docker", tiers: ["kafka"], kafka, ...extra });

const docker = (pool: KafkaPoolLayout) =>
  dockerAddressing({ containerName: (i) => `bp-ci-${pool.name}-${i}`, ports: KAFKA_PORTS, published: pool.roles.includes("broker") ? { external: 19092 } : {}, clientHost: "127.0.0.1" });
const kube = (pool: KafkaPoolLayout) =>
  kubernetesAddressing({ statefulSet: pool.name, headlessService: `${pool.name}-headless`, namespace: "botplatform-prod", ports: KAFKA_PORTS });

/** `key=value` lines as a map (comments skipped). */
function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    expect(map.has(line.slice(0, at)), `duplicate key ${line.slice(0, at)}`).toBe(false);
    map.set(line.slice(0, at), line.slice(at + 1));
  }
  return map;
}
const propsOf = (model: KafkaModel, nodeId: number) => parseProperties(renderServerProperties(model, model.nodes.find((n) => n.id === nodeId)!));

describe("kafkaPools", () => {
  it.each([
    [1, 0, [["kafka", "broker,controller", 1, 0]]],
    [3, 0, [["kafka", "broker,controller", 3, 0]]],
    [3, 3, [["kafka-controller", "controller", 3, 0], ["kafka-broker", "broker", 3, 3]]],
    [6, 3, [["kafka-controller", "controller", 3, 0], ["kafka-broker", "broker", 6, 3]]],
  ] as const)("%i brokers, %i controllers", (brokers, controllers, expected) => {
    const pools = kafkaPools({ brokers, controllers });
    expect(pools.map((p) => [p.name, p.roles.join(","), p.size, p.firstNodeId])).toEqual(expected);
  });
});

describe("kafkaReplication", () => {
  it.each([
    [{ brokers: 1 }, 1, 1, 1],
    [{ brokers: 2 }, 2, 1, 2],
    [{ brokers: 3 }, 3, 2, 3],
    [{ brokers: 5 }, 3, 2, 3],
    [{ brokers: 5, replicationFactor: 5, minInsyncReplicas: 3 }, 5, 3, 3],
    [{ brokers: 3, replicationFactor: 2 }, 2, 1, 3],
    [{ brokers: 3, minInsyncReplicas: 1 }, 3, 1, 3],
  ])("%j -> RF %i, min ISR %i, internal topics RF %i", (settings, rf, minIsr, internal) => {
    expect(kafkaReplication(settings)).toEqual({ defaultReplicationFactor: rf, minInsyncReplicas: minIsr, internalTopicReplicationFactor: internal });
  });
});

describe("kafkaClusterId", () => {
  it("is 16 bytes of base64url, stable per stack and different between stacks", () => {
    const id = kafkaClusterId("ci");
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, "base64url")).toHaveLength(16);
    expect(kafkaClusterId("ci")).toBe(id);
    expect(kafkaClusterId("ci-pr-42")).not.toBe(id);
    expect(kafkaClusterId("ci", "other-project")).not.toBe(id);
  });
});

describe("kafkaHeapMb", () => {
  it.each([
    ["768Mi", 384],
    ["1Gi", 512],
    ["8Gi", 4096],
    ["256Mi", 256],
  ])("%s -> %i MiB of heap", (memory, heap) => expect(kafkaHeapMb(memory)).toBe(heap));
});

describe("combined nodes on Docker", () => {
  const model = kafkaModel({ stage: stageWith({ brokers: 3 }), addressing: docker });

  it("has 3 broker+controller nodes with ids 0..2, all voters", () => {
    expect(model.nodes.map((n) => [n.id, n.name, n.roles.join("+")])).toEqual([
      [0, "bp-ci-kafka-0", "broker+controller"],
      [1, "bp-ci-kafka-1", "broker+controller"],
      [2, "bp-ci-kafka-2", "broker+controller"],
    ]);
    expect(model.quorumVoters).toEqual(["0@bp-ci-kafka-0:9093", "1@bp-ci-kafka-1:9093", "2@bp-ci-kafka-2:9093"]);
  });

  it.each([0, 1, 2])("node %i advertises peers/in-target clients on its container name and the host on bindAddress:hostPort+i", (i) => {
    const props = propsOf(model, i);
    expect(props.get("node.id")).toBe(String(i));
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.get("listeners")).toBe("INTERNAL://0.0.0.0:9091,CLIENT://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094,CONTROLLER://0.0.0.0:9093");
    // A combined node does not advertise its controller listener to clients.
    expect(props.get("advertised.listeners")).toBe(`INTERNAL://bp-ci-kafka-${i}:9091,CLIENT://bp-ci-kafka-${i}:9092,EXTERNAL://127.0.0.1:${19092 + i}`);
    expect(props.get("inter.broker.listener.name")).toBe("INTERNAL");
    expect(props.get("controller.listener.names")).toBe("CONTROLLER");
    expect(props.get("controller.quorum.voters")).toBe(model.quorumVoters.join(","));
  });

  it("lists the host-reachable EXTERNAL addresses as the bootstrap and the CLIENT ones for in-target tasks", () => {
    expect(model.bootstrap).toEqual([19092, 19093, 19094].map((port) => ({ host: "127.0.0.1", port })));
    expect(model.inTargetBootstrap.map((b) => `${b.host}:${b.port}`)).toEqual(["bp-ci-kafka-0:9092", "bp-ci-kafka-1:9092", "bp-ci-kafka-2:9092"]);
    expect(model.brokerCount).toBe(3);
  });

  it("derives the replication and topic defaults from the broker count", () => {
    const props = propsOf(model, 0);
    expect(Object.fromEntries([...props].filter(([k]) => /replication|insync|isr|auto\.create|rebalance|unclean/.test(k)))).toEqual({
      "auto.create.topics.enable": "false",
      "unclean.leader.election.enable": "false",
      "default.replication.factor": "3",
      "min.insync.replicas": "2",
      "offsets.topic.replication.factor": "3",
      "transaction.state.log.replication.factor": "3",
      "transaction.state.log.min.isr": "2",
      "share.coordinator.state.topic.replication.factor": "3",
      "share.coordinator.state.topic.min.isr": "2",
      "group.initial.rebalance.delay.ms": "0",
    });
  });

  it.each([
    ["ci", "6"],
    ["dev", "6"],
    ["staging", undefined],
    ["prod", undefined],
  ])("gives __consumer_offsets few partitions only on throw-away stages (%s -> %s)", (environment, partitions) => {
    const stage = parseStage(environment, { environment, target: "docker", tiers: ["kafka"], kafka: { brokers: 3 } });
    expect(propsOf(kafkaModel({ stage, addressing: docker }), 0).get("offsets.topic.num.partitions")).toBe(partitions);
  });

  it("keeps log.dirs below the volume root (a fresh volume may hold lost+found)", () => {
    expect(propsOf(model, 0).get("log.dirs")).toBe("/var/lib/kafka/data/kafka-log");
  });
});

describe("SASL", () => {
  const withSasl = kafkaModel({ stage: stageWith({ brokers: 3 }), addressing: docker });
  const without = kafkaModel({ stage: stageWith({ brokers: 3, auth: { enabled: false } }), addressing: docker });

  it("puts SCRAM-SHA-512 on INTERNAL, CLIENT and EXTERNAL and keeps the quorum PLAINTEXT", () => {
    const props = propsOf(withSasl, 1);
    expect(props.get("listener.security.protocol.map")).toBe("INTERNAL:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
    expect(props.get("sasl.enabled.mechanisms")).toBe("SCRAM-SHA-512");
    expect(props.get("sasl.mechanism.inter.broker.protocol")).toBe("SCRAM-SHA-512");
    expect(props.get("listener.name.client.scram-sha-512.sasl.jaas.config")).toBe("org.apache.kafka.common.security.scram.ScramLoginModule required;");
    expect(props.get("listener.name.external.scram-sha-512.sasl.jaas.config")).toBe("org.apache.kafka.common.security.scram.ScramLoginModule required;");
  });

  it("lets the broker read its own credentials from the secret file, so no password is in server.properties", () => {
    const props = propsOf(withSasl, 1);
    const file = "/etc/kafka/botplatform-secrets/credentials.properties";
    expect(props.get("config.providers.file.class")).toBe("org.apache.kafka.common.config.provider.FileConfigProvider");
    expect(props.get("listener.name.internal.scram-sha-512.sasl.jaas.config")).toBe(
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="\${file:${file}:username}" password="\${file:${file}:password}";`,
    );
    expect(renderServerProperties(withSasl, withSasl.nodes[1]!)).not.toMatch(/password=(?!"\$\{file:)/);
  });

  it("is all PLAINTEXT with no SASL keys when auth is off", () => {
    const props = propsOf(without, 0);
    expect(props.get("listener.security.protocol.map")).toBe("INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
    expect([...props.keys()].filter((k) => /sasl|config\.providers/.test(k))).toEqual([]);
    expect(renderClientProperties(without)).toBe("security.protocol=PLAINTEXT\n");
  });

  it("renders the credentials and client files from the password", () => {
    expect(renderCredentialsFile("Abcdefgh1234")).toBe("username=bus\npassword=Abcdefgh1234\n");
    expect(renderClientProperties(withSasl, "Abcdefgh1234")).toContain('sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bus" password="Abcdefgh1234";');
    expect(() => renderClientProperties(withSasl)).toThrow(/need the password/);
  });

  it.each([
    ["Abcdefgh1234", true],
    ["a.b_c~d!e@f#g%h^i*j+k:l?m/n-o", true],
    ["short1", false],
    ['has"quote1', false],
    ["has space1", false],
    ["has,comma1", false],
    ["has]bracket", false],
    ["has$dollar1", false],
    ["back\\slash1", false],
    ["equals=sign1", false],
  ])("password %j is accepted: %s (the error names the key, never the value)", (password, ok) => {
    const problems = saslPasswordProblems(password);
    expect(problems.length === 0).toBe(ok);
    for (const p of problems) {
      expect(p).toContain("`kafkaPassword`");
      expect(p).not.toContain(password);
    }
    if (!ok) expect(() => renderCredentialsFile(password)).toThrow(/kafkaPassword/);
  });
});

describe("dedicated controllers on Kubernetes", () => {
  const stage = parseStage("prod", {
    environment: "prod",
    target: "kubernetes",
    tiers: ["kafka"],
    kubernetes: { namespace: "botplatform-prod" },
    kafka: { brokers: 3, controllers: 3, replicationFactor: 3, minInsyncReplicas: 2, resources: { memory: "8Gi" } },
    smoke: { image: "registry.example/smoke:1" },
  });
  const model = kafkaModel({ stage, addressing: kube });
  const pod = (sts: string, i: number) => `${sts}-${i}.${sts}-headless.botplatform-prod.svc.cluster.local`;

  it("numbers controllers 0..2 and brokers 3..5, pods by ordinal", () => {
    expect(model.nodes.map((n) => [n.id, n.pool, n.name])).toEqual([
      [0, "kafka-controller", "kafka-controller-0"],
      [1, "kafka-controller", "kafka-controller-1"],
      [2, "kafka-controller", "kafka-controller-2"],
      [3, "kafka-broker", "kafka-broker-0"],
      [4, "kafka-broker", "kafka-broker-1"],
      [5, "kafka-broker", "kafka-broker-2"],
    ]);
    expect(model.quorumVoters).toEqual([0, 1, 2].map((i) => `${i}@${pod("kafka-controller", i)}:9093`));
  });

  it("gives a controller only the CONTROLLER listener, advertised on its pod DNS name", () => {
    const props = propsOf(model, 1);
    expect(props.get("process.roles")).toBe("controller");
    expect(props.get("listeners")).toBe("CONTROLLER://0.0.0.0:9093");
    expect(props.get("advertised.listeners")).toBe(`CONTROLLER://${pod("kafka-controller", 1)}:9093`);
    expect(props.has("inter.broker.listener.name")).toBe(false);
    expect(props.get("default.replication.factor")).toBe("3"); // the controller assigns new topics' replicas
  });

  it("gives a broker its listeners on its pod DNS name and CONTROLLER's protocol for dialing the quorum", () => {
    const props = propsOf(model, 4);
    expect(props.get("process.roles")).toBe("broker");
    expect(props.get("node.id")).toBe("4");
    expect(props.get("listeners")).toBe("INTERNAL://0.0.0.0:9091,CLIENT://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094");
    expect(props.get("advertised.listeners")).toBe(["INTERNAL:9091", "CLIENT:9092", "EXTERNAL:9094"].map((l) => `${l.split(":")[0]}://${pod("kafka-broker", 1)}:${l.split(":")[1]}`).join(","));
    expect(props.get("listener.security.protocol.map")).toMatch(/CONTROLLER:PLAINTEXT$/);
    expect(props.get("group.initial.rebalance.delay.ms")).toBe("3000");
  });

  it("bootstraps clients from the brokers' pod DNS names only, sizes the heap from memory", () => {
    expect(model.bootstrap.map((b) => `${b.host}:${b.port}`)).toEqual([0, 1, 2].map((i) => `${pod("kafka-broker", i)}:9094`));
    expect(model.brokerCount).toBe(3);
    expect(model.heapMb).toBe(4096);
  });
});

describe("local addressing (the harness)", () => {
  it("gives every node distinct 127.0.0.1 ports on every listener and advertises them", () => {
    const ports = { internal: [1, 2, 3], client: [4, 5, 6], controller: [7, 8, 9], external: [10, 11, 12] };
    const model = kafkaModel({ stage: stageWith({ brokers: 3 }), addressing: (pool) => localAddressing({ tier: pool.name, ports }) });
    expect(model.quorumVoters).toEqual(["0@127.0.0.1:7", "1@127.0.0.1:8", "2@127.0.0.1:9"]);
    expect(propsOf(model, 2).get("advertised.listeners")).toBe("INTERNAL://127.0.0.1:3,CLIENT://127.0.0.1:6,EXTERNAL://127.0.0.1:12");
    expect(propsOf(model, 2).get("listeners")).toBe("INTERNAL://127.0.0.1:3,CLIENT://127.0.0.1:6,EXTERNAL://127.0.0.1:12,CONTROLLER://127.0.0.1:9");
  });
});

describe("determinism", () => {
  it("renders byte-identical properties for the same stage", () => {
    const a = kafkaModel({ stage: stageWith({ brokers: 3 }), addressing: docker });
    const b = kafkaModel({ stage: stageWith({ brokers: 3 }), addressing: docker });
    expect(a.nodes.map((n) => renderServerProperties(a, n))).toEqual(b.nodes.map((n) => renderServerProperties(b, n)));
    expect(serverProperties(a, a.nodes[0]!).map(([k]) => k)).toEqual(serverProperties(b, b.nodes[0]!).map(([k]) => k));
  });
});

describe("topics", () => {
  const replication = { defaultReplicationFactor: 3, minInsyncReplicas: 2 };
  it.each([
    [{ name: "orders.placed", partitions: 6 }, 6, { "cleanup.policy": "delete", "retention.ms": String(7 * 86400 * 1000), "min.insync.replicas": "2" }],
    [{ name: "market.ticks", durable: false, partitions: 3, retention: { maxAge: "1h" } }, 3, { "cleanup.policy": "delete", "retention.ms": "3600000", "segment.ms": "3600000", "min.insync.replicas": "2" }],
    [{ name: "signals", retention: { maxAge: "6d" } }, 1, { "cleanup.policy": "delete", "retention.ms": String(6 * 86400 * 1000), "segment.ms": String(6 * 86400 * 1000), "min.insync.replicas": "2" }],
    [{ name: "risk.alerts", retention: { maxAge: "30d", maxBytes: "64Mi" } }, 1, { "cleanup.policy": "delete", "retention.ms": String(30 * 86400 * 1000), "min.insync.replicas": "2", "retention.bytes": String(64 * 1024 * 1024) }],
  ])("channel %j becomes a topic", (channel, partitions, configs) => {
    const stage = stageWith({ brokers: 3 }, { channels: [channel] });
    expect(channelTopic(stage.channels[0]!, replication)).toEqual({ name: channel.name, partitions, replicationFactor: 3, configs });
  });

  it("adds the smoke topic, replicated like the channels, with 10 minute retention and segments", () => {
    const stage = stageWith({ brokers: 1 });
    const topics = kafkaTopics(stage.channels, kafkaReplication(stage.kafka!));
    expect(topics.map((t) => t.name)).toEqual([...stage.channels.map((c) => c.name), "bp.smoke"]);
    expect(topics.at(-1)).toEqual({ name: "bp.smoke", partitions: 1, replicationFactor: 1, configs: { "cleanup.policy": "delete", "retention.ms": "600000", "segment.ms": "600000", "min.insync.replicas": "1" } });
    expect(KAFKA_SMOKE_TOPIC.retentionMs).toBe(600_000);
  });

  it("refuses a channel named like the smoke topic, naming the field", () => {
    const stage = stageWith({ brokers: 3 }, { channels: [{ name: "signals" }, { name: "bp.smoke" }] });
    expect(() => kafkaTopics(stage.channels, replication)).toThrow("channels[1].name: `bp.smoke` is reserved");
  });
});

describe("stage validation of kafka settings", () => {
  const problemsOf = (kafka: Record<string, unknown>): string[] => {
    try {
      stageWith(kafka);
      return [];
    } catch (error) {
      if (!(error instanceof StageValidationError)) throw error;
      return error.problems.map((p) => `${p.path}: ${p.message}`);
    }
  };
  it.each([
    [{ brokers: 3 }, []],
    [{ brokers: 2 }, ["kafka.brokers: 2 combined broker+controller nodes make an even controller quorum; use an odd count or kafka.controllers: 3"]],
    [{ brokers: 2, controllers: 3 }, []],
    [{ brokers: 7 }, ["kafka.controllers: a 7-broker cluster needs dedicated controllers (set kafka.controllers: 3)"]],
    [{ brokers: 3, replicationFactor: 4 }, ["kafka.replicationFactor: 4 is larger than kafka.brokers (3)"]],
    [{ brokers: 3, minInsyncReplicas: 4 }, ["kafka.minInsyncReplicas: 4 is larger than the replication factor (3): no acks=all write could succeed"]],
    [{ brokers: 3, controllers: 2 }, [expect.stringMatching(/^kafka\.controllers: /)]],
    [{ version: "4.1" }, [expect.stringMatching(/^kafka\.version: must be a version like/)]],
  ])("%j -> %j", (kafka, expected) => {
    expect(problemsOf(kafka)).toEqual(expected);
  });
});

describe("pinned versions", () => {
  it("installs the same Kafka release the tier deploys by default (the harness tests what ships)", () => {
    const script = readFileSync(join(__dirname, "..", "..", "scripts", "install", "kafka.sh"), "utf8");
    expect(/KAFKA_VERSION="\$\{KAFKA_VERSION:-([\d.]+)\}"/.exec(script)?.[1]).toBe(kafkaSettings.parse({}).version);
  });
});
