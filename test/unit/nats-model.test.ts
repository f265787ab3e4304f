/**
 * The NATS tier's pure parts: the model per target addressing, nats.conf and its secret include, the
 * endpoints block, and the stage checks. Real servers run these renderings in test/integration.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { channelSchema } from "../../components/channels.js";
import { hasSecretConf, quote, renderNatsConf, renderNatsSecretConf } from "../../components/nats/config.js";
import { NATS_DOCKER_LAYOUT } from "../../components/nats/docker.js";
import { natsEndpointBlock } from "../../components/nats/endpoint.js";
import { NATS_KUBERNETES_LAYOUT, natsKubernetesAddressing } from "../../components/nats/kubernetes.js";
import { busPermissions, natsModel, type NatsLayout, type NatsModel } from "../../components/nats/model.js";
import { NATS_DEFAULT_VERSION, natsSettings, natsSettingsProblems } from "../../components/nats/settings.js";
import { dockerAddressing, localAddressing, type Addressing } from "../../components/targets/addressing.js";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { SMOKE_SUBJECT_PREFIX } from "../../healthchecks/nats-jetstream.js";
import { PROBE_SUBJECT_PREFIX } from "../../healthchecks/nats.js";

const SECRETS = { busPassword: "Bus-Secret-1f2e3d", routePassword: "Route-Secret-9a8b7c" };
const CHANNELS = [
  { name: "market.ticks", durable: false },
  { name: "orders.placed", consumerGroups: ["risk-engine"] },
].map((c) => channelSchema.parse(c));

const docker = (bindAddress = "127.0.0.1"): Addressing =>
  dockerAddressing({ containerName: (i) => `bp-ci-nats-${i}`, ports: { client: 4222, cluster: 6222, monitor: 8222 }, published: { client: 4222, monitor: 8222 }, clientHost: bindAddress });
const kubernetes = (): Addressing => natsKubernetesAddressing("botplatform-staging");
const local = (): Addressing => localAddressing({ tier: "nats", ports: { client: [5001, 5002, 5003, 5004, 5005], cluster: [6001, 6002, 6003, 6004, 6005], monitor: [7001, 7002, 7003, 7004, 7005] } });
const LOCAL_LAYOUT: NatsLayout = { configFile: (i) => `/tmp/n${i}/nats.conf`, secretFile: (i) => `/tmp/n${i}/secret/s.conf`, storeDir: (i) => `/tmp/n${i}/data` };

function model(raw: Record<string, unknown> = {}, addressing = docker(), layout = NATS_DOCKER_LAYOUT): NatsModel {
  return natsModel({ stack: "ci", settings: natsSettings.parse(raw), addressing, channels: CHANNELS, layout });
}

describe("natsModel: routes and listeners", () => {
  it.each([1, 3, 5])("%i nodes: each routes to every peer, never itself; a single node has no cluster block", (nodes) => {
    const m = model({ nodes });
    expect(m.nodes).toHaveLength(nodes);
    for (const node of m.nodes) {
      expect(node.routes.map((r) => r.host)).toEqual(m.nodes.filter((n) => n !== node).map((n) => n.name));
      expect(node.cluster !== undefined).toBe(nodes > 1);
      expect(renderNatsConf(m, node).includes("cluster {")).toBe(nodes > 1);
    }
    expect(m.streamReplicas).toBe(Math.min(3, nodes));
    expect(new Set(m.nodes.map((n) => n.name)).size).toBe(nodes);
  });

  it.each([
    ["docker", docker(), NATS_DOCKER_LAYOUT, ["127.0.0.1:4222", "127.0.0.1:4223", "127.0.0.1:4224"], "bp-ci-nats-1:6222"],
    ["kubernetes", kubernetes(), NATS_KUBERNETES_LAYOUT, [0, 1, 2].map((i) => `nats-${i}.nats-headless.botplatform-staging.svc.cluster.local:4222`), "nats-1.nats-headless.botplatform-staging.svc.cluster.local:6222"],
    ["local", local(), LOCAL_LAYOUT, ["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"], "127.0.0.1:6002"],
  ] as const)("%s: advertises the address its clients dial and routes by peer address", (_target, addressing, layout, advertised, routeToNode1) => {
    const m = model({ nodes: 3 }, addressing, layout);
    expect(m.noAdvertise).toBe(false);
    expect(m.nodes.map((n) => `${n.clientAdvertise?.host}:${n.clientAdvertise?.port}`)).toEqual(advertised);
    expect(m.nodes[0]!.routes.map((r) => `${r.host}:${r.port}`)).toContain(routeToNode1);
    expect(renderNatsConf(m, m.nodes[2]!)).toContain(`client_advertise: ${quote(advertised[2]!)}`);
  });

  it("does not advertise client URLs when Docker publishes on 0.0.0.0: clients could not dial that", () => {
    const m = model({ nodes: 3 }, docker("0.0.0.0"));
    expect(m.noAdvertise).toBe(true);
    const conf = renderNatsConf(m, m.nodes[0]!);
    expect(conf).not.toContain("client_advertise");
    expect(conf).toContain("no_advertise: true");
  });

  it.each([
    [{}, 805306368, 67108864],
    [{ storage: { size: "10Gi" } }, 8053063680, 67108864],
    [{ jetstream: { maxFileStore: "256Mi", maxMemoryStore: "128Mi" } }, 268435456, 134217728],
  ])("JetStream limits from %j", (raw, file, memory) => {
    const conf = renderNatsConf(model(raw), model(raw).nodes[0]!);
    expect(conf).toContain(`max_file_store: ${file}`);
    expect(conf).toContain(`max_memory_store: ${memory}`);
    expect(conf).toContain('store_dir: "/data"');
  });

  it("derives health checks like the NATS chart's", () => {
    expect(model().health).toEqual({
      startup: { kind: "http", path: "/healthz", port: 8222 },
      readiness: { kind: "http", path: "/healthz?js-server-only=true", port: 8222 },
      liveness: { kind: "http", path: "/healthz?js-enabled-only=true", port: 8222 },
    });
  });

  it("deploys the nats-server release the install script builds and the tests run", () => {
    const script = readFileSync(join(__dirname, "../../scripts/install/nats.sh"), "utf8");
    expect(script).toContain(`NATS_SERVER_VERSION="v${NATS_DEFAULT_VERSION}"`);
    expect(model().image).toBe(`nats:${NATS_DEFAULT_VERSION}-alpine`);
  });
});

describe("nats.conf and its secret include", () => {
  const m = model({ nodes: 3 });

  it.each([0, 1, 2])("node %i: no secret in nats.conf; the include defines exactly the variables nats.conf uses", (i) => {
    const node = m.nodes[i]!;
    const conf = renderNatsConf(m, node);
    const secret = renderNatsSecretConf(m, node, SECRETS)!;
    expect(conf).not.toContain(SECRETS.busPassword);
    expect(conf).not.toContain(SECRETS.routePassword);
    const used = [...conf.matchAll(/\$(BP_[A-Z_]+)/g)].map((x) => x[1]).sort();
    const defined = [...secret.matchAll(/^(BP_[A-Z_]+):/gm)].map((x) => x[1]).sort();
    expect(defined).toEqual([...new Set(used)]);
    expect(secret).toContain(`BP_BUS_PASSWORD: "${SECRETS.busPassword}"`);
    for (const peer of node.routes) expect(secret).toContain(`"nats://route:${SECRETS.routePassword}@${peer.host}:${peer.port}"`);
  });

  it.each([
    ["docker", NATS_DOCKER_LAYOUT, "secret/nats-secret.conf"],
    ["kubernetes", NATS_KUBERNETES_LAYOUT, "../nats-secret/nats-0.conf"],
    ["local", LOCAL_LAYOUT, "secret/s.conf"],
  ] as const)("%s: includes the secret file by a path relative to nats.conf (nats-server joins it to the config's directory)", (_t, layout, include) => {
    const lm = model({ nodes: 3 }, local(), layout);
    expect(renderNatsConf(lm, lm.nodes[0]!)).toContain(`include "${include}"`);
  });

  it("without auth: no include, no authorization, routes in plain nats.conf", () => {
    const open = model({ nodes: 3, auth: { enabled: false } });
    const conf = renderNatsConf(open, open.nodes[0]!);
    expect(hasSecretConf(open)).toBe(false);
    expect(renderNatsSecretConf(open, open.nodes[0]!, SECRETS)).toBeUndefined();
    expect(conf).not.toMatch(/include|authorization|\$BP_/);
    expect(conf).toContain('routes: ["nats://bp-ci-nats-1:6222", "nats://bp-ci-nats-2:6222"]');
  });

  it.each([
    ["plain", '"plain"'],
    ['quo"te', '"quo\\"te"'],
    ["back\\slash", '"back\\\\slash"'],
    ["$JS.API.>", '"$JS.API.>"'],
    ["tab\tnew\nline", '"tab\\tnew\\nline"'],
    ["bell\u0007", '"bell\\x07"'],
  ])("quotes %j as %s", (value, quoted) => {
    expect(quote(value)).toBe(quoted);
  });

  it("URL-encodes the route password inside route URLs", () => {
    const secret = renderNatsSecretConf(m, m.nodes[0]!, { busPassword: "b", routePassword: "p@ss/w:rd" })!;
    expect(secret).toContain("nats://route:p%40ss%2Fw%3Ard@bp-ci-nats-1:6222");
  });
});

describe("the bus user's permissions", () => {
  const permissions = busPermissions(CHANNELS);
  const allows = (patterns: string[], subject: string): boolean =>
    patterns.some((p) => p === subject || (p.endsWith(".>") && subject.startsWith(p.slice(0, -1))));

  it.each([
    ["orders.placed", true],
    ["orders.placed.eu", true],
    ["market.ticks.btc", true],
    [`${SMOKE_SUBJECT_PREFIX}.run-1`, true],
    [`${PROBE_SUBJECT_PREFIX}.run-1.pubsub`, true],
    ["_INBOX.abc.1", true],
    ["orders", false],
    ["payments.captured", false],
  ])("publish and subscribe on %s: %s", (subject, allowed) => {
    expect(allows(permissions.publish.allow, subject)).toBe(allowed);
    expect(allows(permissions.subscribe.allow, subject)).toBe(allowed);
  });

  it("reaches the JetStream API and acks, but may not delete or purge a stream", () => {
    expect(allows(permissions.publish.allow, "$JS.API.STREAM.CREATE.BP_SMOKE")).toBe(true);
    expect(allows(permissions.publish.allow, "$JS.ACK.BP_SMOKE.x.1.1.1.1.0")).toBe(true);
    expect(permissions.publish.deny).toEqual(["$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>"]);
  });
});

describe("the endpoints block", () => {
  it.each([
    ["docker", docker(), NATS_DOCKER_LAYOUT, "nats://127.0.0.1:4223", "http://127.0.0.1:8222"],
    ["kubernetes", kubernetes(), NATS_KUBERNETES_LAYOUT, "nats://nats-1.nats-headless.botplatform-staging.svc.cluster.local:4222", "http://nats-0.nats-headless.botplatform-staging.svc.cluster.local:8222"],
  ] as const)("%s: every node's client URL and monitor, accepted by the endpoints contract", (_t, addressing, layout, server1, monitor0) => {
    const block = natsEndpointBlock(model({ nodes: 3 }, addressing, layout));
    expect(block).toMatchObject({ user: "bus", clusterSize: 3, monitorUrl: monitor0 });
    expect(block.servers[1]).toBe(server1);
    expect(block.monitorUrls).toHaveLength(3);
    const parsed = parseEndpoints({ version: 1, stage: "ci", nats: { ...block, password: "pw" } });
    expect(parsed.nats?.monitorUrls).toEqual(block.monitorUrls);
  });

  it("has no user when the stage runs without auth", () => {
    expect(natsEndpointBlock(model({ auth: { enabled: false } })).user).toBeUndefined();
  });
});

describe("natsSettingsProblems", () => {
  it.each([
    [{}, []],
    [{ jetstream: { maxFileStore: "2Gi" } }, ["nats.jetstream.maxFileStore"]],
    [{ jetstream: { maxFileStore: "1Gi" } }, []],
    [{ jetstream: { maxMemoryStore: "512Mi" } }, ["nats.jetstream.maxMemoryStore"]],
    [{ lameDuckDuration: "10m" }, ["nats.lameDuckDuration"]],
    [{ lameDuckDuration: "29s" }, ["nats.lameDuckDuration"]],
    [{ lameDuckDuration: "30s" }, []],
    [{ jetstream: { maxFileStore: "4Gi", maxMemoryStore: "1Gi" }, lameDuckDuration: "1h" }, ["nats.jetstream.maxFileStore", "nats.jetstream.maxMemoryStore", "nats.lameDuckDuration"]],
  ])("%j -> %j", (raw, paths) => {
    const problems = natsSettingsProblems(natsSettings.parse(raw));
    expect(problems.map((p) => p.path)).toEqual(paths);
    for (const problem of problems) expect(problem.message).toMatch(/nats\.|nats-server's minimum/);
  });
});
