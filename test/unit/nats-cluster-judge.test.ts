/** `judgeCluster`: the NATS probe's cluster verdict from monitoring snapshots, without servers. */
import { describe, expect, it } from "vitest";
import { judgeCluster, type NodeSnapshot, type PeerInfo } from "../../healthchecks/nats-cluster.js";
import { NotReadyError } from "../../healthchecks/probe.js";

const NAMES = ["nats-0", "nats-1", "nats-2"];

function node(name: string, options: { routes?: string[]; leader?: string | null; replicas?: PeerInfo[]; metaPeers?: string[]; jetstream?: boolean } = {}): NodeSnapshot {
  const leader = options.leader === null ? undefined : (options.leader ?? "nats-0");
  return {
    url: `http://127.0.0.1:${8222 + NAMES.indexOf(name)}`,
    reachable: true,
    serverName: name,
    routedPeers: options.routes ?? NAMES.filter((n) => n !== name),
    meta: { leader, clusterSize: 3, replicas: leader === name ? (options.replicas ?? NAMES.filter((n) => n !== name).map((n) => ({ name: n, current: true }))) : undefined },
    jetstreamEnabled: options.jetstream ?? true,
    metaPeers: options.metaPeers ?? NAMES.filter((n) => n !== name),
  };
}
const down = (i: number): NodeSnapshot => ({ url: `http://127.0.0.1:${8222 + i}`, reachable: false, error: "connect ECONNREFUSED" });

const judged = (snapshots: NodeSnapshot[], size = 3) => judgeCluster(snapshots, size) as { verdict: string; detail: string };

describe("judgeCluster", () => {
  it("passes a full cluster with one leader and current peers", () => {
    expect(judged([node("nats-0"), node("nats-1"), node("nats-2")])).toEqual({ verdict: "pass", detail: "3/3 servers, meta leader nats-0, all routed and current" });
  });

  it.each([
    ["follower nats-2", 2, "nats-0"],
    ["leader nats-0 (a new one elected)", 0, "nats-1"],
  ])("one server down (%s): degraded, naming it", (_case, downIndex, leader) => {
    const dead = NAMES[downIndex]!;
    const alive = NAMES.filter((n) => n !== dead);
    const snapshots = NAMES.map((n, i) =>
      i === downIndex ? down(i) : node(n, { leader, routes: alive.filter((a) => a !== n), replicas: NAMES.filter((x) => x !== leader).map((x) => ({ name: x, current: x !== dead, offline: x === dead })) }),
    );
    const outcome = judged(snapshots);
    expect(outcome.verdict).toBe("degraded");
    expect(outcome.detail).toBe(`2/3 servers alive (1 missing): ${dead} down; meta leader ${leader}`);
  });

  it("names a down server from /raftz even when the only reachable node is a follower", () => {
    const outcome = judged([down(0), node("nats-1", { leader: "nats-2", routes: ["nats-2"] })]);
    expect(outcome).toEqual({ verdict: "degraded", detail: "2/3 servers alive (1 missing): nats-0 down; meta leader nats-2" });
  });

  it("throws NotReady when quorum is lost, even while the cut-off server still names itself leader", () => {
    const lone = node("nats-2", { leader: "nats-2", routes: [], replicas: [{ name: "nats-0", current: true }, { name: "nats-1", current: true }] });
    expect(() => judgeCluster([down(0), down(1), lone], 3)).toThrow(NotReadyError);
    expect(() => judgeCluster([down(0), down(1), lone], 3)).toThrow("JetStream quorum lost (needs 2 of 3 servers): 1/3 servers alive (2 missing): nats-0, nats-1 down");
  });

  it("throws NotReady while JetStream has no meta leader (still electing)", () => {
    const snapshots = NAMES.map((n) => node(n, { leader: null }));
    expect(() => judgeCluster(snapshots, 3)).toThrow(/^JetStream has no meta leader/);
  });

  it("throws NotReady while servers disagree on the leader", () => {
    expect(() => judgeCluster([node("nats-0", { leader: "nats-0" }), node("nats-1", { leader: "nats-1" }), node("nats-2")], 3)).toThrow(/disagree on the JetStream meta leader/);
  });

  it("degrades on a peer that is up but not current, with its lag", () => {
    const outcome = judged([node("nats-0", { replicas: [{ name: "nats-1", current: true }, { name: "nats-2", current: false, lag: 42 }] }), node("nats-1"), node("nats-2")]);
    expect(outcome).toEqual({ verdict: "degraded", detail: "JetStream peers not current: nats-2 (lag 42); 3/3 servers, meta leader nats-0" });
  });

  it("degrades on incomplete routes (a partition) even when every server is alive", () => {
    const outcome = judged([node("nats-0", { routes: ["nats-1"] }), node("nats-1", { routes: ["nats-0", "nats-2"] }), node("nats-2", { routes: ["nats-1"] })]);
    expect(outcome).toEqual({ verdict: "degraded", detail: "incomplete routes: nats-0 routes to 1/2 peers, nats-2 routes to 1/2 peers" });
  });

  it("degrades, naming the URL, when no monitoring endpoint answers", () => {
    expect(judged([down(0)])).toEqual({ verdict: "degraded", detail: "no monitoring endpoint answered: http://127.0.0.1:8222 (connect ECONNREFUSED)" });
  });

  it("passes with a note when every server is routed but one monitor port does not answer", () => {
    const outcome = judged([node("nats-0"), node("nats-1"), down(2)]);
    expect(outcome.verdict).toBe("pass");
    expect(outcome.detail).toMatch(/all routed and current; monitor not reachable: http:\/\/127\.0\.0\.1:8224/);
  });

  it("fails when JetStream is not enabled on a server", () => {
    expect(judged([node("nats-0", { jetstream: false })], 1)).toEqual({ verdict: "fail", detail: "JetStream is not enabled on nats-0" });
  });

  it("passes a single server (no meta group); one lone server where three are expected is no quorum", () => {
    const single: NodeSnapshot = { url: "http://127.0.0.1:8222", reachable: true, serverName: "nats-0", routedPeers: [], jetstreamEnabled: true, metaPeers: [] };
    expect(judged([single], 1)).toEqual({ verdict: "pass", detail: "1/1 servers, all routed and current" });
    expect(() => judgeCluster([single], 3)).toThrow("JetStream quorum lost (needs 2 of 3 servers): 1/3 servers alive (2 missing)");
  });
});
