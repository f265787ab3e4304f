/**
 * The RabbitMQ probe's pure judgements: which management API answers give pass, degraded or fail, and
 * how an endpoints block becomes the list of nodes to try. The probe against real nodes (and their
 * faults) is test/integration/rabbitmq-cluster.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { amqpAddress, expectedQueues, judgeNodes, judgeQueues, rabbitmqTarget, type NodeInfo } from "../../healthchecks/rabbitmq-management.js";

const up = (name: string, extra: Partial<NodeInfo> = {}): NodeInfo => ({ name, running: true, partitions: [], mem_alarm: false, disk_free_alarm: false, ...extra });
const down = (name: string): NodeInfo => ({ name, running: false });

describe("judgeNodes", () => {
  it.each<[string, NodeInfo[], number, string, string]>([
    ["all running", [up("a"), up("b"), up("c")], 3, "pass", "3/3 nodes running, no alarms, no partitions"],
    ["a single node", [up("a")], 1, "pass", "1/1 nodes running, no alarms, no partitions"],
    // Stats columns are missing on a node that has not reported yet: not an alarm.
    ["stats not reported yet", [up("a"), { name: "b", running: true }, { name: "c", running: true }], 3, "pass", "3/3 nodes running"],
    ["one of three down", [up("a"), down("b"), up("c")], 3, "degraded", "2/3 nodes running: b is down"],
    ["one never joined", [up("a"), up("b")], 3, "degraded", "2/3 nodes running: 1 expected node never joined the cluster"],
    ["two of three down", [up("a"), down("b"), down("c")], 3, "fail", "quorum lost: 1/3 nodes running (down: b, c)"],
    ["only one of three ever joined", [up("a")], 3, "fail", "quorum lost: 1/3 nodes running"],
    ["memory alarm", [up("a"), up("b", { mem_alarm: true }), up("c")], 3, "fail", "memory alarm on b: publishers are blocked"],
    ["disk alarm", [up("a", { disk_free_alarm: true })], 1, "fail", "disk alarm on a: publishers are blocked"],
    ["partition", [up("a", { partitions: ["c"] }), up("b"), up("c", { partitions: ["a"] })], 3, "fail", "network partition: a cannot see c; network partition: c cannot see a"],
    ["alarm and a node down", [up("a", { mem_alarm: true }), up("b"), down("c")], 3, "fail", "memory alarm on a"],
  ])("%s -> %s", (_case, nodes, expected, verdict, detail) => {
    const outcome = judgeNodes(nodes, expected);
    const [v, d] = typeof outcome === "string" ? ["pass", outcome] : [outcome?.verdict, outcome?.detail];
    expect(v).toBe(verdict);
    expect(d).toContain(detail);
  });
});

describe("judgeQueues", () => {
  const expected = ["orders.placed.risk", "signals.exec"];
  it.each<[string, { name: string; type?: string }[], string, string]>([
    ["all quorum", [{ name: "orders.placed.risk", type: "quorum" }, { name: "signals.exec", type: "quorum" }, { name: "other", type: "classic" }], "pass", "2 channel quorum queues present"],
    ["one missing", [{ name: "orders.placed.risk", type: "quorum" }], "fail", "queue `signals.exec` missing in vhost `botplatform`"],
    ["one classic", [{ name: "orders.placed.risk", type: "classic" }, { name: "signals.exec", type: "quorum" }], "fail", "queue `orders.placed.risk` is classic, expected quorum"],
    ["no type column", [{ name: "orders.placed.risk" }, { name: "signals.exec", type: "quorum" }], "fail", "is of unknown type"],
  ])("%s -> %s", (_case, queues, verdict, detail) => {
    const outcome = judgeQueues(queues, expected, "botplatform");
    const [v, d] = typeof outcome === "string" ? ["pass", outcome] : [outcome?.verdict, outcome?.detail];
    expect(v).toBe(verdict);
    expect(d).toContain(detail);
  });
});

describe("expectedQueues", () => {
  it("lists `<channel>.<group>` of durable channels only", () => {
    expect(
      expectedQueues([
        { name: "market.ticks", durable: false, consumerGroups: ["charts"] },
        { name: "orders.placed", durable: true, consumerGroups: ["a", "b"] },
        { name: "audit", durable: true },
      ]),
    ).toEqual(["orders.placed.a", "orders.placed.b"]);
  });
});

describe("rabbitmqTarget", () => {
  const endpoint = (rabbitmq: Record<string, unknown>) => parseEndpoints({ version: 1, stage: "t", rabbitmq }).rabbitmq!;

  it("tries url first, then every other listed node with the same credentials and vhost", () => {
    const target = rabbitmqTarget(
      endpoint({
        url: "amqp://bus:p%40ss@127.0.0.1:5672/botplatform",
        managementUrl: "http://127.0.0.1:15672",
        clusterSize: 3,
        addresses: ["127.0.0.1:5672", "127.0.0.1:5673", "127.0.0.1:5674"],
        managementUrls: ["http://127.0.0.1:15672", "http://127.0.0.1:15673"],
      }),
    );
    expect(target.amqpUrls).toEqual(["amqp://bus:p%40ss@127.0.0.1:5672/botplatform", "amqp://bus:p%40ss@127.0.0.1:5673/botplatform", "amqp://bus:p%40ss@127.0.0.1:5674/botplatform"]);
    expect(target.managementUrls).toEqual(["http://127.0.0.1:15672", "http://127.0.0.1:15673"]);
    expect([target.user, target.password, target.vhost, target.clusterSize]).toEqual(["bus", "p@ss", "botplatform", 3]);
  });

  it.each([
    ["amqp://h", "/", "guest", "guest", 1],
    ["amqp://u:p@h:5672/%2Fprod", "/prod", "u", "p", 1],
  ])("%s -> vhost %s, user %s", (url, vhost, user, password, size) => {
    const target = rabbitmqTarget(endpoint({ url }));
    expect([target.vhost, target.user, target.password, target.clusterSize]).toEqual([vhost, user, password, size]);
    expect(target.managementUrls).toEqual([]);
  });

  it("takes management credentials from managementUrl when it has them, and never sends them in a URL", () => {
    const target = rabbitmqTarget(endpoint({ url: "amqp://bus:pw@h/v", managementUrl: "http://admin:adm@h:15672/" }));
    expect([target.user, target.password]).toEqual(["admin", "adm"]);
    expect(target.managementUrls).toEqual(["http://h:15672"]);
  });

  it.each([
    ["amqp://u:p@h:1234/v", "h:1234"],
    ["amqp://h/v", "h:5672"],
    ["amqps://h/v", "h:5671"],
  ])("amqpAddress(%s) = %s, without credentials", (url, address) => {
    expect(amqpAddress(url)).toBe(address);
  });

  it("refuses addresses that are not host:port", () => {
    expect(() => endpoint({ url: "amqp://h", addresses: ["h"] })).toThrow("rabbitmq.addresses[0]: must be host:port");
  });
});
