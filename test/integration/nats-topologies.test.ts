/**
 * Other shapes of the NATS tier on real servers: a single node without auth (a dev stage), five nodes,
 * a misconfigured route credential, which must show up as a cluster that does not form, and lame duck.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { parseEndpoints } from "../../healthchecks/endpoints.js";
import { runSmoke } from "../../healthchecks/runner.js";
import { NATS_SERVER_BIN, applyStreams, startNatsCluster, type NatsCluster } from "../harness/nats.js";

const run = promisify(execFile);

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
    expect(result.tiers[0], JSON.stringify(result.tiers[0])).toMatchObject({ verdict: "pass" });
    expect(result.tiers[0]?.steps.find((s) => s.name === "channels")?.detail).toBe("2 channel streams (R1) and 3 consumers present");
  });

  it("five nodes form one cluster (quorum 3) and pass the probe", async () => {
    cluster = await startNatsCluster({ settings: { nodes: 5 }, channels: [] });
    const result = await smokeOf(cluster);
    expect(result.tiers[0], JSON.stringify(result.tiers[0])).toMatchObject({ verdict: "pass" });
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

describe("lame duck, as the Kubernetes preStop hook and the Docker stop signal trigger it", () => {
  it("`nats-server --signal ldm=<pid>` moves clients to the other nodes; the node ignores SIGTERM and exits by itself", { timeout: 90_000 }, async () => {
    // nats-server's shortest lame duck period is 30 s; with one client the node leaves after the grace period.
    cluster = await startNatsCluster({ settings: { nodes: 3, lameDuckDuration: "30s" }, channels: [] });
    const leaving = cluster.nodes[0]!;
    const nc = await connect({ servers: [leaving.clientUrl], user: "bus", pass: cluster.secrets.busPassword, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    try {
      expect(nc.info?.server_name).toBe("nats-0");
      const reconnected = (async () => {
        for await (const status of nc.status()) if (status.type === "reconnect") return nc.info?.server_name;
        return undefined;
      })();
      const started = Date.now();
      // The preStop command with the harness's pid instead of the container's pid 1.
      await run(NATS_SERVER_BIN, ["--signal", `ldm=${leaving.process.pid}`]);
      leaving.process.child.kill("SIGTERM"); // the kubelet's SIGTERM right after preStop returns
      expect(await reconnected).toMatch(/^nats-[12]$/);
      await new Promise<void>((resolvePromise) => (leaving.process.exited ? resolvePromise() : leaving.process.child.once("exit", () => resolvePromise())));
      const lived = Date.now() - started;
      // Without lame duck the SIGTERM ends it at once; in lame duck it waits out the 10 s grace period,
      // then evicts its clients (spread over the rest of the period) and exits when none is left.
      expect(lived).toBeGreaterThanOrEqual(9 * 1000);
      expect(leaving.process.logs()).toMatch(/Entering lame duck mode/);
    } finally {
      await nc.close();
    }
  });
});
