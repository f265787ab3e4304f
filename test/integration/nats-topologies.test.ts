/**
 * Other shapes of the NATS tier on real servers: a single node without auth (a dev stage), five nodes,
 * and a misconfigured route credential, which must show up as a cluster that does not form.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { runSmoke } from "../../healthchecks/runner.js";
import { applyStreams, startNatsCluster, type NatsCluster } from "../harness/nats.js";

const DEADLINE_MS = 20 * 1000;
let cluster: NatsCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const smokeOf = (c: NatsCluster) =>
  runSmoke({
    endpoints: parseEndpoints({ version: 1, stage: "it", nats: c.endpoint(), channels: c.channels.map((ch) => ({ name: ch.name, durable: ch.durable, consumerGroups: ch.consumerGroups })) }),
    tiers: ["nats"],
    deadlineMs: DEADLINE_MS,
  });

describe("NATS topologies on real servers", () => {
  it("a single node without auth: no secret include, no user in the endpoints, the probe passes with R1 streams", async () => {
    cluster = await startNatsCluster({ settings: { nodes: 1, auth: { enabled: false } } });
    expect(cluster.endpoint().user).toBeUndefined();
    const nc = await cluster.connect();
    try {
      await applyStreams(nc, cluster.model.streams);
    } finally {
      await nc.close();
    }
    const result = await smokeOf(cluster);
    expect(result.tiers[0]).toMatchObject({ verdict: "pass" });
    expect(result.tiers[0]?.steps.find((s) => s.name === "channels")?.detail).toBe("2 channel streams (R1) and 3 consumers present");
  });

  it("five nodes form one cluster (quorum 3) and pass the probe", async () => {
    cluster = await startNatsCluster({ settings: { nodes: 5 }, channels: [] });
    const result = await smokeOf(cluster);
    expect(result.tiers[0]).toMatchObject({ verdict: "pass" });
    expect(result.tiers[0]?.steps.find((s) => s.name === "cluster")?.detail).toMatch(/^5\/5 servers, meta leader nats-\d, all routed and current$/);
  });

  it("a node with a wrong route password is refused by its peers: the cluster does not form", async () => {
    const start = startNatsCluster({
      secretsFor: (node, secrets) => (node === 2 ? { ...secrets, routePassword: "not-the-route-password" } : secrets),
      formTimeoutMs: 4000,
      attempts: 1,
    });
    await expect(start).rejects.toThrow(/did not form within 4000 ms/);
  });
});
