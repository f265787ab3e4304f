/**
 * The NATS tier through the real program under Pulumi's mocks (a child process per stage): what each
 * NATS stage would create on Docker and on Kubernetes. Stage files that also hold other tiers are
 * planned with their NATS part only (same stack name, nats, channel, target and smoke settings), so
 * these tests do not depend on the other tiers' progress. Plans keep their secrets marked, so a test
 * can look inside a secret input and still prove every password sits under a mark.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bytesOf } from "../../components/settings-common.js";
import type { Stage } from "../../components/stage.js";
import { maskSecrets, PLAN_GENERATED_PREFIX, PLAN_SECRET_PREFIX, type PlannedResource } from "../../tools/plan/capture.js";
import { customStack, ofType, tierOnlyStack } from "../harness/plan.js";
import { isSecretMarked, planRaw, reveal } from "../harness/plan-raw.js";

type Obj = Record<string, any>;

const cases: Record<string, () => { path: string; stage: Stage; givenPassword?: boolean }> = {
  dev: () => tierOnlyStack("dev", "nats"),
  ci: () => tierOnlyStack("ci", "nats"),
  staging: () => tierOnlyStack("staging", "nats"),
  prod: () => tierOnlyStack("prod", "nats"),
  // Kubernetes, 5 nodes, no auth (a throw-away stage), the cluster's default StorageClass.
  kopen: () => customStack("kopen", { environment: "dev", target: "kubernetes", tiers: ["nats"], nats: { nodes: 5, auth: { enabled: false } }, smoke: { image: "registry.example/smoke:1" } }),
  // Docker published on every interface (nothing to advertise), other ports, the password from the stack file.
  dwide: () => ({
    ...customStack("dwide", { environment: "ci", target: "docker", tiers: ["nats"], docker: { bindAddress: "0.0.0.0" }, nats: { nodes: 3, hostPorts: { client: 14222, monitor: 18222 } } }, { natsPassword: "AAABAJ8Zq1c=" }),
    givenPassword: true,
  }),
};

const planned = new Map<string, { plan: PlannedResource[]; stage: Stage; givenPassword: boolean }>();

beforeAll(async () => {
  await Promise.all(
    Object.entries(cases).map(async ([name, make]) => {
      const { path, stage, givenPassword } = make();
      planned.set(name, { plan: await planRaw(path), stage, givenPassword: givenPassword ?? false });
    }),
  );
}, 240_000);

const dockerCases = ["dev", "ci", "dwide"];
const kubernetesCases = ["staging", "prod", "kopen"];

const inputs = (r: PlannedResource | undefined): Obj => {
  if (r === undefined) throw new Error("resource not planned");
  return r.inputs as Obj;
};
const find = (plan: PlannedResource[], name: string): PlannedResource | undefined => plan.find((r) => r.name === name);
const passwordOf = (name: string): string => {
  const { stage, givenPassword } = planned.get(name)!;
  return givenPassword ? `${PLAN_SECRET_PREFIX}botplatform-brokers:natsPassword` : `${PLAN_GENERATED_PREFIX}bp-${stage.name}-natsPassword`;
};
const routePasswordOf = (name: string): string => `${PLAN_GENERATED_PREFIX}bp-${planned.get(name)!.stage.name}-nats-route-password`;

describe.each(Object.keys(cases))("stage %s", (name) => {
  it("puts no secret in a plain input", () => {
    for (const r of planned.get(name)!.plan) {
      const text = JSON.stringify(maskSecrets(r.inputs));
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_SECRET_PREFIX);
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_GENERATED_PREFIX);
    }
  });

  it("builds everything under the NatsTier component, named after the stage", () => {
    const { plan, stage } = planned.get(name)!;
    expect(ofType(plan, "botplatform:nats:NatsTier").map((t) => t.name)).toEqual([`bp-${stage.name}-nats`]);
    const children = plan.filter((r) => r.parent === `bp-${stage.name}-nats`);
    expect(children.length).toBeGreaterThan(3);
    for (const child of children) expect(child.name.startsWith(`bp-${stage.name}-`), child.name).toBe(true);
  });

  it("generates a route password only for a cluster with auth, a bus password only when none is given", () => {
    const { plan, stage, givenPassword } = planned.get(name)!;
    const generated = ofType(plan, "random:index/randomPassword:RandomPassword").map((r) => r.name).sort();
    const expected = [...(stage.nats!.auth.enabled && stage.nats!.nodes > 1 ? [`bp-${stage.name}-nats-route-password`] : []), ...(stage.nats!.auth.enabled && !givenPassword ? [`bp-${stage.name}-natsPassword`] : [])];
    expect(generated).toEqual(expected.sort());
  });
});

describe.each(dockerCases)("Docker stage %s", (name) => {
  const get = () => planned.get(name)!;
  const nodes = () => ofType(get().plan, "docker:index/container:Container").filter((c) => /-nats-\d+$/.test(c.name));

  it("runs one alpine container per node that waits for its JetStream health check and stops in lame duck", () => {
    const { stage } = get();
    expect(nodes().map((c) => inputs(c).name)).toEqual(Array.from({ length: stage.nats!.nodes }, (_, i) => `bp-${stage.name}-nats-${i}`));
    for (const c of nodes()) {
      const i = inputs(c);
      expect(i.image).toBe(`nats:${stage.nats!.version}-alpine`);
      expect(i.command).toEqual(["nats-server", "--config", "/etc/nats/nats.conf"]);
      expect(i.healthcheck.tests).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz?js-enabled-only=true"]);
      expect([i.wait, i.restart, i.stopSignal]).toEqual([true, "unless-stopped", "SIGUSR2"]);
      expect(i.stopTimeout).toBeGreaterThan(30);
      expect(i.memory).toBe(bytesOf(stage.nats!.resources.memory) / 1024 / 1024);
      expect(i.envs).toEqual([`GOMEMLIMIT=${Math.floor((bytesOf(stage.nats!.resources.memory) * 0.9) / 1024 / 1024)}MiB`]);
      expect(i.networksAdvanced).toEqual([{ name: `bp-${stage.name}-net`, aliases: [i.name] }]);
      expect(i.labels).toEqual(expect.arrayContaining([{ label: "io.botplatform.stage", value: stage.name }, { label: "io.botplatform.tier", value: "nats" }]));
    }
  });

  it("publishes node i's client and monitor ports on bindAddress:hostPort+i, its store on its own volume", () => {
    const { plan, stage } = get();
    const { client, monitor } = stage.nats!.hostPorts;
    const ip = stage.docker.bindAddress;
    nodes().forEach((c, n) => {
      const i = inputs(c);
      expect(i.ports).toEqual([
        { internal: 4222, external: client + n, ip },
        { internal: 8222, external: monitor + n, ip },
      ]);
      expect(i.volumes).toEqual([{ volumeName: `bp-${stage.name}-nats-${n}-data`, containerPath: "/data" }]);
      expect(find(plan, `bp-${stage.name}-nats-${n}-data`)?.type).toBe("docker:index/volume:Volume");
    });
  });

  it("uploads nats.conf (routes by container name, advertising what host clients dial) and the secret include under a mark", () => {
    const { stage } = get();
    const nats = stage.nats!;
    nodes().forEach((c, n) => {
      const raw = inputs(c).uploads;
      expect(isSecretMarked(raw)).toBe(true);
      const uploads = reveal<Obj[]>(raw);
      const conf = uploads.find((u) => u.file === "/etc/nats/nats.conf")!.content as string;
      const secret = uploads.find((u) => u.file === "/etc/nats/secret/nats-secret.conf")!;
      expect(conf).toContain(`server_name: "bp-${stage.name}-nats-${n}"`);
      expect(conf).toContain('include "secret/nats-secret.conf"');
      expect(conf).not.toContain(passwordOf(name));
      if (stage.docker.bindAddress === "0.0.0.0") expect(conf).not.toContain("client_advertise");
      else expect(conf).toContain(`client_advertise: "${stage.docker.bindAddress}:${nats.hostPorts.client + n}"`);
      expect(secret.permissions).toBe("0400");
      expect(secret.content).toContain(`BP_BUS_PASSWORD: "${passwordOf(name)}"`);
      const peers = Array.from({ length: nats.nodes }, (_, p) => p).filter((p) => p !== n);
      for (const p of peers) expect(secret.content).toContain(`"nats://route:${routePasswordOf(name)}@bp-${stage.name}-nats-${p}:6222"`);
      expect(conf.includes("cluster {")).toBe(nats.nodes > 1);
    });
  });

  it("provisions the durable channels' streams with a nats-box task on the stage network", () => {
    const { plan, stage } = get();
    const i = inputs(find(plan, `bp-${stage.name}-nats-channels`));
    expect([i.attach, i.mustRun, i.restart, i.image]).toEqual([true, false, "no", stage.nats!.toolsImage]);
    expect(i.networksAdvanced).toEqual([{ name: `bp-${stage.name}-net` }]);
    expect(isSecretMarked(i.uploads)).toBe(true);
    const uploads = reveal<Obj[]>(i.uploads);
    const script = uploads.find((u) => u.file === "/botplatform-task/provision-streams.sh")!.content as string;
    expect(script).toContain(`nats://bp-${stage.name}-nats-0:4222`);
    for (const channel of stage.channels.filter((c) => c.durable)) {
      const stream = channel.name.toUpperCase().replace(/[.-]/g, "_");
      expect(uploads.map((u) => u.file)).toContain(`/botplatform-task/stream-${stream}.json`);
      for (const group of channel.consumerGroups) expect(script).toContain(`retry apply_consumer '${stream}' '${group}'`);
    }
    expect(uploads.find((u) => u.file === "/botplatform-task/password")?.content).toBe(passwordOf(name));
  });
});

describe.each(kubernetesCases)("Kubernetes stage %s", (name) => {
  const get = () => planned.get(name)!;
  const named = (suffix: string) => inputs(find(get().plan, `bp-${get().stage.name}-${suffix}`));
  const selector = { "app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "nats" };
  const podDns = (i: number) => `nats-${i}.nats-headless.${get().stage.kubernetes.namespace}.svc.cluster.local`;

  it("runs a StatefulSet of the alpine image as uid 1000, each pod on its own nats-<i>.conf, its store on its PVC", () => {
    const { stage } = get();
    const sts = named("nats-sts");
    const pod = sts.spec.template.spec;
    const container = pod.containers[0];
    expect(sts.metadata).toMatchObject({ name: "nats", namespace: stage.kubernetes.namespace });
    expect(sts.spec).toMatchObject({ replicas: stage.nats!.nodes, serviceName: "nats-headless", podManagementPolicy: "Parallel", selector: { matchLabels: selector } });
    expect(sts.spec.template.metadata.labels).toMatchObject(selector);
    expect(container.image).toBe(`nats:${stage.nats!.version}-alpine`);
    expect(container.command).toEqual(["nats-server", "--config", "/etc/nats/$(POD_NAME).conf"]);
    expect(container.env[0]).toEqual({ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: "data", mountPath: "/data" }]));
    expect(sts.spec.volumeClaimTemplates[0].spec.resources).toEqual({ requests: { storage: stage.nats!.storage.size } });
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe(stage.kubernetes.storageClass);
    expect(container.resources).toEqual({ requests: { cpu: stage.nats!.resources.cpu, memory: stage.nats!.resources.memory }, limits: { memory: stage.nats!.resources.memory } });
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels).toEqual(selector);
  });

  it("probes like the NATS chart and enters lame duck before it stops", () => {
    const sts = named("nats-sts");
    const container = sts.spec.template.spec.containers[0];
    expect(container.startupProbe.httpGet).toEqual({ path: "/healthz", port: 8222 });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/healthz?js-server-only=true", port: 8222 });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz?js-enabled-only=true", port: 8222 });
    expect(container.lifecycle.preStop.exec.command).toEqual(["nats-server", "--signal", "ldm=1"]);
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
  });

  it("renders every pod's nats.conf into the ConfigMap (pod DNS routes and advertise, no password), secrets into the Secret", () => {
    const { stage } = get();
    const nats = stage.nats!;
    const data = named("nats-config").data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(Array.from({ length: nats.nodes }, (_, i) => `nats-${i}.conf`));
    Object.entries(data).forEach(([file, conf], n) => {
      expect(file).toBe(`nats-${n}.conf`);
      expect(conf).toContain(`client_advertise: "${podDns(n)}:4222"`);
      expect(conf).toContain(`max_file_store: ${nats.jetstream.maxFileStore ? bytesOf(nats.jetstream.maxFileStore) : Math.floor((bytesOf(nats.storage.size) * 3) / 4)}`);
      const peers = Array.from({ length: nats.nodes }, (_, p) => p).filter((p) => p !== n);
      for (const p of peers) expect(conf).toContain(`nats://${podDns(p)}:6222`);
      expect(conf).not.toContain("nats://route:");
    });
    const secret = find(get().plan, `bp-${stage.name}-nats-secret`);
    if (!nats.auth.enabled) {
      expect(secret).toBeUndefined();
      expect(Object.values(data).join()).not.toMatch(/include|authorization/);
      return;
    }
    const raw = inputs(secret).stringData;
    expect(isSecretMarked(raw)).toBe(true);
    const files = reveal<Record<string, string>>(raw);
    expect(Object.keys(files).sort()).toEqual(Object.keys(data).sort());
    expect(files["nats-1.conf"]).toContain(`BP_BUS_PASSWORD: "${passwordOf(name)}"`);
    expect(files["nats-1.conf"]).toContain(`"nats://route:${routePasswordOf(name)}@${podDns(0)}:6222"`);
    expect(data["nats-0.conf"]).toContain('include "../nats-secret/nats-0.conf"');
    expect(named("nats-sts").spec.template.spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: "secret", mountPath: "/etc/nats-secret", readOnly: true }]));
  });

  it("has a headless Service that publishes not-ready pods, a client Service, and a PDB of one", () => {
    const headless = named("nats-headless");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector });
    expect(headless.spec.ports.map((p: Obj) => p.port)).toEqual([4222, 6222, 8222]);
    const client = named("nats-client");
    expect(client.spec).toMatchObject({ selector, type: get().stage.kubernetes.serviceType, ports: [{ name: "client", port: 4222, targetPort: "client" }] });
    expect(named("nats-pdb").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
  });

  it("provisions the streams with a nats-box Job whose files (and password) are in a Secret", () => {
    const { stage } = get();
    const job = named("nats-channels-job");
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toBe(stage.nats!.toolsImage);
    expect(container.command).toEqual(["sh", "/botplatform-task/provision-streams.sh"]);
    const files = reveal<Record<string, string>>(named("nats-channels-files").stringData);
    expect(isSecretMarked(named("nats-channels-files").stringData)).toBe(true);
    expect(files["provision-streams.sh"]).toContain(`nats://${podDns(0)}:4222`);
    expect(files.password).toBe(stage.nats!.auth.enabled ? passwordOf(name) : undefined);
    const stream = JSON.parse(files["stream-ORDERS_PLACED.json"]!) as Obj;
    expect(stream).toMatchObject({ name: "ORDERS_PLACED", subjects: ["orders.placed", "orders.placed.>"], num_replicas: Math.min(3, stage.nats!.nodes) });
  });
});
