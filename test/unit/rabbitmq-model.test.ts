/**
 * The RabbitMQ tier's pure parts: the model (node names per addressing, formation, limits), the
 * rendered rabbitmq.conf / enabled_plugins / definitions, the channel topology and its policies, the
 * password hash, the endpoints block and the stage checks. Whether RabbitMQ accepts these files is
 * proven by test/integration/rabbitmq-cluster.test.ts on real nodes.
 */
import { describe, expect, it } from "vitest";
import { channelSchema, type Channel } from "../../components/channels.js";
import { passwordHash, passwordSalt, renderDefinitions, renderDefinitionsFor, renderEnabledPlugins, renderRabbitmqConf, topologyDefinitions } from "../../components/rabbitmq/config.js";
import { rabbitmqDockerAddressing } from "../../components/rabbitmq/docker.js";
import { amqpUrl, rabbitmqEndpointBlock } from "../../components/rabbitmq/endpoint.js";
import { rabbitmqKubernetesAddressing, rabbitmqKubernetesEntry } from "../../components/rabbitmq/kubernetes.js";
import { rabbitmqModel, type Discovery, type RabbitmqModel } from "../../components/rabbitmq/model.js";
import { rabbitmqProblems, rabbitmqSettings } from "../../components/rabbitmq/settings.js";
import { channelTopology, DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, EVENTS_EXCHANGE } from "../../components/rabbitmq/topology.js";
import { parseStage } from "../../components/stage.js";
import { localAddressing, type Addressing } from "../../components/targets/addressing.js";
import type { DockerTarget } from "../../components/targets/docker.js";

const channel = (raw: Record<string, unknown>): Channel => channelSchema.parse(raw);
const CHANNELS = [
  channel({ name: "market.ticks", durable: false, consumerGroups: ["charts"] }),
  channel({ name: "orders.placed", consumerGroups: ["execution-engine", "risk-engine"], retention: { maxAge: "1d", maxMessages: 1000, maxBytes: "1Mi" } }),
  channel({ name: "orders", consumerGroups: ["placed"] }),
  channel({ name: "audit" }),
];

const dockerTarget = { kind: "docker", prefix: "bp-ci", bindAddress: "127.0.0.1" } as DockerTarget;
const local = localAddressing({ tier: "rabbitmq", ports: { amqp: [5000, 5001, 5002], management: [6000, 6001, 6002], dist: [7000, 7001, 7002], epmd: [4000, 4000, 4000] } });

function model(nodes: 1 | 3, addressing: Addressing, discovery: Discovery = { kind: "classic" }, extra: Record<string, unknown> = {}): RabbitmqModel {
  const settings = rabbitmqSettings.parse({ nodes, ...extra });
  return rabbitmqModel({ stack: "ci", settings, channels: CHANNELS, addressing, discovery });
}

const targets: [string, () => Addressing, Discovery, string[], boolean][] = [
  ["docker", () => rabbitmqDockerAddressing(dockerTarget, rabbitmqSettings.parse({})), { kind: "classic" }, ["rabbit@bp-ci-rabbitmq-0", "rabbit@bp-ci-rabbitmq-1", "rabbit@bp-ci-rabbitmq-2"], false],
  [
    "kubernetes",
    () => rabbitmqKubernetesAddressing("bp"),
    { kind: "kubernetes", headlessService: "rabbitmq-headless" },
    ["rabbit@rabbitmq-0.rabbitmq-headless.bp.svc.cluster.local", "rabbit@rabbitmq-1.rabbitmq-headless.bp.svc.cluster.local", "rabbit@rabbitmq-2.rabbitmq-headless.bp.svc.cluster.local"],
    true,
  ],
  // All nodes share 127.0.0.1: the name part must tell them apart, and an IP host needs long names.
  ["local", () => local, { kind: "classic" }, ["rabbitmq-0@127.0.0.1", "rabbitmq-1@127.0.0.1", "rabbitmq-2@127.0.0.1"], true],
];

describe.each(targets)("model on %s", (_target, addressing, discovery, names, longNames) => {
  const m = model(3, addressing(), discovery);

  it("names every node after its host, long names exactly when hosts are FQDNs or IPs", () => {
    expect(m.nodes.map((n) => n.erlangNode)).toEqual(names);
    expect(m.longNames).toBe(longNames);
    for (const node of m.nodes) expect(node.env).toMatchObject({ RABBITMQ_NODENAME: node.erlangNode, RABBITMQ_USE_LONGNAME: String(longNames), RABBITMQ_DIST_PORT: String(node.ports.dist) });
  });

  it("lists the same peers in the config every node renders", () => {
    const confs = m.nodes.map((n) => renderRabbitmqConf(m, n.index));
    for (const conf of confs) {
      expect(conf).toContain("cluster_partition_handling = pause_minority\n");
      expect(conf).toContain("cluster_formation.target_cluster_size_hint = 3\n");
      if (discovery.kind === "classic") names.forEach((name, i) => expect(conf).toContain(`cluster_formation.classic_config.nodes.${i + 1} = ${name}\n`));
      else expect(conf).toContain("cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s\n");
    }
  });

  it("binds AMQP and management where the addressing says", () => {
    m.nodes.forEach((node) => {
      const conf = renderRabbitmqConf(m, node.index);
      expect(conf).toContain(`listeners.tcp.1 = ${node.bindHost}:${node.ports.amqp}\n`);
      expect(conf).toContain(`management.tcp.ip = ${node.bindHost}\nmanagement.tcp.port = ${node.ports.management}\n`);
    });
  });
});

describe("cluster formation", () => {
  it("on Kubernetes names pods through the headless Service, with one template for every pod", () => {
    const m = model(3, rabbitmqKubernetesAddressing("botplatform-prod"), { kind: "kubernetes", headlessService: "rabbitmq-headless" });
    expect(m.formation).toEqual({
      kind: "kubernetes",
      headlessService: "rabbitmq-headless",
      hostnameSuffix: ".rabbitmq-headless.botplatform-prod.svc.cluster.local",
      nodeNameTemplate: "rabbit@$(POD_NAME).rabbitmq-headless.botplatform-prod.svc.cluster.local",
    });
    // The template, expanded for pod i, is exactly node i's name.
    m.nodes.forEach((node, i) => expect(m.formation.kind === "kubernetes" && m.formation.nodeNameTemplate.replace("$(POD_NAME)", `rabbitmq-${i}`)).toBe(node.erlangNode));
    const conf = renderRabbitmqConf(m, 0);
    expect(conf).toContain("cluster_formation.k8s.address_type = hostname\n");
    expect(conf).toContain("cluster_formation.k8s.service_name = rabbitmq-headless\n");
    expect(conf).toContain("cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.botplatform-prod.svc.cluster.local\n");
    expect(renderEnabledPlugins(m)).toBe("[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n");
  });

  it("refuses Kubernetes discovery over addressing whose hosts are not `<pod>.<domain>`", () => {
    expect(() => model(3, local, { kind: "kubernetes", headlessService: "x" })).toThrow("`127.0.0.1` does not start with `rabbitmq-0.`");
  });

  it.each([
    [1, undefined, 60],
    [3, "rabbitmq-upgrade await_online_quorum_plus_one -t 3000 && rabbitmq-upgrade drain -t 300", 3600],
  ] as const)("with %i node(s) has pre-stop %s and a grace period of %i s", (nodes, preStop, grace) => {
    const m = model(nodes, rabbitmqKubernetesAddressing("bp"), { kind: "kubernetes", headlessService: "rabbitmq-headless" });
    expect(m.preStop?.[2]).toBe(preStop);
    expect(m.terminationGracePeriodSeconds).toBe(grace);
  });

  it("gives classic config only the management plugin, and no epmd override off the harness", () => {
    const m = model(3, rabbitmqDockerAddressing(dockerTarget, rabbitmqSettings.parse({})));
    expect(renderEnabledPlugins(m)).toBe("[rabbitmq_management].\n");
    expect(m.nodes[0]!.env.ERL_EPMD_PORT).toBeUndefined();
    expect(model(3, local).nodes[2]!.env.ERL_EPMD_PORT).toBe("4000");
  });
});

describe("limits and files", () => {
  it.each([
    [{}, "0.4", 1024 ** 3, 1024 ** 3],
    [{ resources: { cpu: "1" } }, "0.4", 1024 ** 3, 1024 ** 3],
    [{ memoryHighWatermark: 0.6, diskFreeLimit: "2Gi", resources: { memory: "2Gi" } }, "0.6", 2 * 1024 ** 3, 2 * 1024 ** 3],
  ])("renders %j as watermark %s of %i bytes and a disk limit of %i bytes", (extra, watermark, total, disk) => {
    const conf = renderRabbitmqConf(model(1, local, { kind: "classic" }, extra), 0);
    expect(conf).toContain(`vm_memory_high_watermark.relative = ${watermark}\n`);
    expect(conf).toContain(`total_memory_available_override_value = ${total}\n`);
    expect(conf).toContain(`disk_free_limit.absolute = ${disk}\n`);
  });

  it("loads the definitions from the secret dir unless told otherwise", () => {
    expect(renderRabbitmqConf(model(1, local), 0)).toContain("load_definitions = /etc/rabbitmq-secret/definitions.json\n");
    const settings = rabbitmqSettings.parse({});
    const custom = rabbitmqModel({ stack: "s", settings, channels: [], addressing: local, discovery: { kind: "classic" }, definitionsPath: "/tmp/x/definitions.json" });
    expect(renderRabbitmqConf(custom, 0)).toContain("load_definitions = /tmp/x/definitions.json\n");
  });

  it("renders the same text for the same input (no drift between deploys)", () => {
    const a = model(3, local);
    const b = model(3, local);
    expect(renderRabbitmqConf(a, 1)).toBe(renderRabbitmqConf(b, 1));
    expect(renderDefinitionsFor(a, "pw")).toBe(renderDefinitionsFor(b, "pw"));
  });

  it("installs the cookie with mode 0600 before the image's entrypoint starts the broker", () => {
    expect(model(1, local).command).toEqual(["sh", "-c", 'install -m 0600 /etc/rabbitmq-secret/erlang-cookie "$HOME/.erlang.cookie" && exec docker-entrypoint.sh rabbitmq-server']);
  });

  it("uses the official management image of the version unless an image is given", () => {
    expect(model(1, local, { kind: "classic" }, { version: "3.13" }).image).toBe("rabbitmq:3.13-management");
    expect(model(1, local, { kind: "classic" }, { image: "registry/rmq:1" }).image).toBe("registry/rmq:1");
  });
});

describe("password hash", () => {
  it("matches RabbitMQ's documented rabbit_password_hashing_sha256 example", () => {
    expect(passwordHash("test12", Buffer.from("908DC60A", "hex"))).toBe("kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
  });

  it.each([
    ["ci", "bus", "ci", "bus", true],
    ["ci", "bus", "prod", "bus", false],
    ["ci", "bus", "ci", "other", false],
  ])("salt(%s, %s) === salt(%s, %s): %s", (s1, u1, s2, u2, same) => {
    expect(passwordSalt(s1, u1).equals(passwordSalt(s2, u2))).toBe(same);
    expect(passwordSalt(s1, u1)).toHaveLength(4);
  });

  it("refuses a salt of the wrong length", () => {
    expect(() => passwordHash("x", Buffer.alloc(8))).toThrow("4 bytes, got 8");
  });
});

describe("definitions", () => {
  const m = model(3, local);
  const definitions = JSON.parse(renderDefinitionsFor(m, "s3cret")) as Record<string, any>;

  it("holds the user's salted hash, never the password, with monitoring access and full rights on the vhost", () => {
    expect(renderDefinitionsFor(m, "s3cret")).not.toContain("s3cret");
    expect(definitions.users).toEqual([
      { name: "bus", password_hash: passwordHash("s3cret", passwordSalt("ci", "bus")), hashing_algorithm: "rabbit_password_hashing_sha256", tags: ["monitoring"], limits: {} },
    ]);
    expect(definitions.vhosts).toEqual([{ name: "botplatform" }]);
    expect(definitions.permissions).toEqual([{ user: "bus", vhost: "botplatform", configure: ".*", write: ".*", read: ".*" }]);
  });

  it("declares a quorum queue per consumer group of a durable channel, bound by the channel name", () => {
    const queues = definitions.queues.map((q: { name: string }) => q.name);
    expect(queues).toEqual(["orders.placed.execution-engine", "orders.placed.risk-engine", "orders.placed", DEAD_LETTER_QUEUE]);
    for (const q of definitions.queues) expect(q).toMatchObject({ vhost: "botplatform", durable: true, auto_delete: false, arguments: { "x-queue-type": "quorum" } });
    expect(definitions.bindings.map((b: Record<string, string>) => [b.source, b.destination, b.routing_key])).toEqual([
      [EVENTS_EXCHANGE, "orders.placed.execution-engine", "orders.placed"],
      [EVENTS_EXCHANGE, "orders.placed.risk-engine", "orders.placed"],
      [EVENTS_EXCHANGE, "orders.placed", "orders"],
      [DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, "#"],
    ]);
    expect(definitions.exchanges.map((e: Record<string, string>) => [e.name, e.type])).toEqual([
      [EVENTS_EXCHANGE, "topic"],
      [DEAD_LETTER_EXCHANGE, "topic"],
    ]);
  });

  it("carries delivery limit, dead-lettering and retention in one policy per channel", () => {
    const policy = definitions.policies.find((p: { name: string }) => p.name === "bp-channel-orders.placed");
    expect(policy).toMatchObject({
      vhost: "botplatform",
      "apply-to": "queues",
      definition: { "delivery-limit": 20, "dead-letter-exchange": DEAD_LETTER_EXCHANGE, "max-length": 1000, "message-ttl": 86_400_000, "max-length-bytes": 1024 ** 2 },
    });
    const deliveryLimit = channelTopology(CHANNELS, 5).policies.find((p) => p.name === "bp-channel-orders.placed")?.definition["delivery-limit"];
    expect(deliveryLimit).toBe(5);
  });

  it.each([
    ["bp-channel-orders.placed", "orders.placed.risk-engine", true],
    ["bp-channel-orders.placed", "orders.placed", false],
    ["bp-channel-orders.placed", "orders.placedXrisk-engine", false],
    ["bp-channel-orders", "orders.placed", true],
    ["bp-channel-orders", "orders.placed.risk-engine", false],
    ["bp-channel-orders.placed", "bp-smoke-abc.quorum", false],
    ["bp-dead-letters", DEAD_LETTER_QUEUE, true],
  ])("policy %s matches queue %s: %s", (name, queue, matches) => {
    const policy = definitions.policies.find((p: { name: string }) => p.name === name);
    expect(new RegExp(policy.pattern).test(queue)).toBe(matches);
  });

  it("keeps the topology (no user, no hash) in its own non-secret view", () => {
    const view = JSON.stringify(topologyDefinitions(m));
    expect(view).not.toContain("password");
    expect(JSON.parse(view).queues).toEqual(definitions.queues);
    expect(renderDefinitions(m, "HASH")).toContain('"password_hash": "HASH"');
  });
});

describe("endpoints block", () => {
  it.each([
    ["plain", "plain"],
    ["p@ss:w/rd%", "p%40ss%3Aw%2Frd%25"],
  ])("encodes the password %s into the URL as %s", (password, encoded) => {
    expect(amqpUrl(model(1, local), password, { host: "h", port: 1 })).toBe(`amqp://bus:${encoded}@h:1/botplatform`);
  });

  it("points Docker clients at node 0's published ports and lists every node", () => {
    const m = model(3, rabbitmqDockerAddressing(dockerTarget, rabbitmqSettings.parse({ hostPorts: { amqp: 25672, management: 35672 } })));
    expect(rabbitmqEndpointBlock(m, "pw")).toEqual({
      url: "amqp://bus:pw@127.0.0.1:25672/botplatform",
      managementUrl: "http://127.0.0.1:35672",
      clusterSize: 3,
      addresses: ["127.0.0.1:25672", "127.0.0.1:25673", "127.0.0.1:25674"],
      managementUrls: ["http://127.0.0.1:35672", "http://127.0.0.1:35673", "http://127.0.0.1:35674"],
    });
  });

  it("points Kubernetes clients at the client Service and lists every pod", () => {
    const m = model(3, rabbitmqKubernetesAddressing("ns"), { kind: "kubernetes", headlessService: "rabbitmq-headless" });
    const block = rabbitmqEndpointBlock(m, "pw", rabbitmqKubernetesEntry("ns"));
    expect(block.url).toBe("amqp://bus:pw@rabbitmq.ns.svc.cluster.local:5672/botplatform");
    expect(block.managementUrl).toBe("http://rabbitmq.ns.svc.cluster.local:15672");
    expect(block.addresses[2]).toBe("rabbitmq-2.rabbitmq-headless.ns.svc.cluster.local:5672");
  });
});

describe("stage checks", () => {
  const stage = (channels: unknown[]) => () => parseStage("ci", { environment: "ci", target: "docker", tiers: ["rabbitmq"], channels });

  it.each([
    [[{ name: "a", retention: { maxAge: "49d" } }], []],
    [[{ name: "a", retention: { maxAge: "50d" } }], [{ path: "channels[0].retention.maxAge", message: "50d is above RabbitMQ's message-ttl limit of 49 days" }]],
    [[{ name: "a", durable: false, retention: { maxAge: "365d" } }], []],
  ])("channels %j give problems %j", (channels, problems) => {
    expect(rabbitmqProblems(channels.map(channel))).toEqual(problems);
  });

  it("are reported by parseStage with the field path", () => {
    expect(stage([{ name: "a", retention: { maxAge: "60d" } }])).toThrow("channels[0].retention.maxAge");
    expect(stage([{ name: "a", retention: { maxAge: "7d" } }])).not.toThrow();
  });

  it.each([
    [{ nodes: 2 }, "rabbitmq.nodes"],
    [{ deliveryLimit: 0 }, "rabbitmq.deliveryLimit"],
    [{ memoryHighWatermark: 0.95 }, "rabbitmq.memoryHighWatermark"],
  ])("refuse %j naming %s", (rabbitmq, path) => {
    expect(() => parseStage("ci", { environment: "ci", target: "docker", tiers: ["rabbitmq"], rabbitmq })).toThrow(path);
  });
});
