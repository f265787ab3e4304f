/**
 * The Kafka tier through the real program under Pulumi's mocks (a child process per stage): what each
 * stage with Kafka would create on Docker (ci: 3 combined nodes) and on Kubernetes (prod: dedicated
 * controllers). Stage files that hold other tiers are planned with their Kafka part only (same stack
 * name, same kafka and channel settings). Plans keep their secrets marked, so a test can read inside a
 * secret input and still prove every password sits under a mark.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { kafkaClusterId } from "../../components/kafka/model.js";
import type { Stage } from "../../components/stage.js";
import { maskSecrets, PLAN_GENERATED_PREFIX, PLAN_SECRET_PREFIX, type PlannedResource } from "../../tools/plan/capture.js";
import { customStack, ofType, runTool, tierOnlyStack } from "../harness/plan.js";
import { isSecretMarked, planRaw, reveal } from "../harness/plan-raw.js";

type Obj = Record<string, any>;

const SMOKE_IMAGE = { image: "registry.example/botplatform/smoke:1" };
const cases: Record<string, () => { path: string; stage: Stage; givenPassword?: boolean }> = {
  ci: () => tierOnlyStack("ci", "kafka"),
  prod: () => tierOnlyStack("prod", "kafka"),
  // Docker, one broker, no auth, another bind address and host port.
  dsolo: () => customStack("dsolo", { environment: "dev", target: "docker", tiers: ["kafka"], docker: { bindAddress: "127.0.0.2" }, kafka: { brokers: 1, hostPort: 29092, auth: { enabled: false } } }),
  // Docker, a password from the stack file.
  dpw: () => ({ ...customStack("dpw", { environment: "ci", target: "docker", tiers: ["kafka"], kafka: { brokers: 3 } }, { kafkaPassword: "AAABAJ8Zq1c=" }), givenPassword: true }),
  // Docker with dedicated controllers (a shape only prod uses today, on Kubernetes).
  dctl: () => customStack("dctl", { environment: "ci", target: "docker", tiers: ["kafka"], kafka: { brokers: 2, controllers: 3 } }),
  // Kubernetes, combined nodes, no auth (a throw-away stage).
  kdev: () => customStack("kdev", { environment: "dev", target: "kubernetes", tiers: ["kafka"], kafka: { brokers: 3, auth: { enabled: false } }, smoke: SMOKE_IMAGE }),
};
const dockerCases = ["ci", "dsolo", "dpw"];
const kubernetesCases = ["prod", "kdev"];

const planned = new Map<string, { plan: PlannedResource[]; stage: Stage; givenPassword: boolean; path: string }>();
let ciAgain: PlannedResource[] = [];

beforeAll(async () => {
  await Promise.all([
    ...Object.entries(cases).map(async ([name, make]) => {
      const { path, stage, givenPassword } = make();
      planned.set(name, { plan: await planRaw(path), stage, givenPassword: givenPassword ?? false, path });
    }),
    planRaw(cases.ci!().path).then((plan) => (ciAgain = plan)),
  ]);
}, 240_000);

const inputs = (r: PlannedResource | undefined): Obj => {
  if (r === undefined) throw new Error("resource not planned");
  return r.inputs as Obj;
};
const passwordOf = (name: string): string => {
  const { stage, givenPassword } = planned.get(name)!;
  return givenPassword ? `${PLAN_SECRET_PREFIX}botplatform-brokers:kafkaPassword` : `${PLAN_GENERATED_PREFIX}bp-${stage.name}-kafkaPassword`;
};
const topicNames = (stage: Stage) => [...stage.channels.map((c) => c.name), "bp.smoke"];

describe.each(Object.keys(cases))("stage %s", (name) => {
  it("puts no secret in a plain input (every password input is marked secret)", () => {
    for (const r of planned.get(name)!.plan) {
      const text = JSON.stringify(maskSecrets(r.inputs));
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_SECRET_PREFIX);
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_GENERATED_PREFIX);
    }
  });

  it("builds everything under the KafkaTier component, named after the stage", () => {
    const { plan, stage } = planned.get(name)!;
    expect(ofType(plan, "botplatform:kafka:KafkaTier").map((t) => t.name)).toEqual([`bp-${stage.name}-kafka`]);
    const children = plan.filter((r) => r.parent === `bp-${stage.name}-kafka`);
    expect(children.length).toBeGreaterThan(3);
    for (const child of children) expect(child.name.startsWith(`bp-${stage.name}-kafka`), child.name).toBe(true);
  });

  it("generates a password only when auth is on and none is given", () => {
    const { plan, stage, givenPassword } = planned.get(name)!;
    const generated = ofType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name.endsWith("kafkaPassword"));
    expect(generated).toHaveLength(stage.kafka!.auth.enabled && !givenPassword ? 1 : 0);
  });
});

describe("determinism", () => {
  it("plans ci twice with identical resources and inputs", () => {
    expect(JSON.stringify(ciAgain)).toBe(JSON.stringify(planned.get("ci")!.plan));
  });
});

describe.each(dockerCases)("Docker stage %s", (name) => {
  const get = () => planned.get(name)!;
  const nodes = () => ofType(get().plan, "docker:index/container:Container").filter((c) => /-kafka-\d+$/.test(c.name));

  it("runs one container per broker+controller node, named and host-named bp-<stage>-kafka-<i>", () => {
    const { stage } = get();
    expect(nodes().map((c) => [inputs(c).name, inputs(c).hostname])).toEqual(
      Array.from({ length: stage.kafka!.brokers }, (_, i) => [`bp-${stage.name}-kafka-${i}`, `bp-${stage.name}-kafka-${i}`]),
    );
    for (const c of nodes()) {
      const i = inputs(c);
      expect(i.image).toBe(`apache/kafka:${stage.kafka!.version}`);
      expect(i.command.slice(0, 2)).toEqual(["sh", "-c"]);
      expect(i.command[2]).toContain('ordinal="${HOSTNAME##*-}"');
      expect(i.command[2]).toContain(`--cluster-id '${kafkaClusterId(stage.name)}'`);
      expect(i.networksAdvanced).toEqual([{ name: `bp-${stage.name}-net`, aliases: [i.name] }]);
      expect([i.wait, i.restart]).toEqual([true, "unless-stopped"]);
      expect(i.healthcheck.tests).toEqual(["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9092"]);
      expect(i.memory).toBe(Number(/^(\d+)Mi$/.exec(stage.kafka!.resources.memory)?.[1] ?? 1024));
      expect(i.labels).toEqual(expect.arrayContaining([{ label: "io.botplatform.stage", value: stage.name }, { label: "io.botplatform.tier", value: "kafka" }]));
    }
  });

  it("publishes broker i's EXTERNAL listener on bindAddress:hostPort+i and advertises exactly that", () => {
    const { stage } = get();
    nodes().forEach((c, n) => {
      const i = inputs(c);
      const hostPort = stage.kafka!.hostPort + n;
      expect(i.ports).toEqual([{ internal: 9094, external: hostPort, ip: stage.docker.bindAddress }]);
      expect(i.volumes).toEqual([{ volumeName: `bp-${stage.name}-kafka-${n}-data`, containerPath: "/var/lib/kafka/data" }]);
      const config = reveal<Obj[]>(i.uploads).find((u) => u.file === `/etc/kafka/botplatform/server-${n}.properties`)!;
      expect(config.content).toContain(`\nnode.id=${n}\n`);
      expect(config.content).toContain(`\nadvertised.listeners=INTERNAL://bp-${stage.name}-kafka-${n}:9091,CLIENT://bp-${stage.name}-kafka-${n}:9092,EXTERNAL://${stage.docker.bindAddress}:${hostPort}\n`);
    });
  });

  it("uploads the SCRAM credentials file under a secret mark for the image's user, and no password elsewhere", () => {
    const { stage } = get();
    const auth = stage.kafka!.auth.enabled;
    for (const c of nodes()) {
      const raw = inputs(c).uploads;
      expect(isSecretMarked(raw)).toBe(auth);
      const uploads = reveal<Obj[]>(raw);
      const credentials = uploads.filter((u) => u.file === "/etc/kafka/botplatform-secrets/credentials.properties");
      const config = uploads.find((u) => u.file.endsWith(".properties") && u !== credentials[0])!;
      if (auth) {
        expect(credentials.map((u) => [u.content, u.owner, u.permissions])).toEqual([[`username=bus\npassword=${passwordOf(name)}\n`, "1000", "0400"]]);
        expect(config.content).not.toContain(passwordOf(name));
      } else {
        expect(credentials).toEqual([]);
      }
    }
  });

  it("creates the topics with a one-shot task after every node, dialing the CLIENT listeners", () => {
    const { plan, stage } = get();
    const task = ofType(plan, "docker:index/container:Container").find((c) => c.name === `bp-${stage.name}-kafka-topics`);
    const i = inputs(task);
    expect([i.attach, i.mustRun, [...i.entrypoints, ...i.command]]).toEqual([true, false, ["sh", "/botplatform-task/topics.sh"]]);
    expect(task!.dependsOn).toEqual(expect.arrayContaining(nodes().map((n) => n.name)));
    const uploads = reveal<Obj[]>(i.uploads);
    const script = uploads.find((u) => u.file === "/botplatform-task/topics.sh")!.content as string;
    expect(script).toContain(`bootstrap='${nodes().map((_, n) => `bp-${stage.name}-kafka-${n}:9092`).join(",")}'`);
    for (const topic of topicNames(stage)) expect(script).toContain(`ensure_topic '${topic}' `);
    const client = uploads.find((u) => u.file === "/botplatform-task/client.properties")!.content as string;
    if (stage.kafka!.auth.enabled) {
      expect(isSecretMarked(i.uploads)).toBe(true);
      expect(client).toContain(`password="${passwordOf(name)}"`);
      expect(script).not.toContain(passwordOf(name));
    } else {
      expect(client).toBe("security.protocol=PLAINTEXT\n");
    }
  });
});

describe("Docker stage dctl (dedicated controllers)", () => {
  const containers = () => ofType(planned.get("dctl")!.plan, "docker:index/container:Container").map((c) => inputs(c));
  const config = (c: Obj, ordinal: number) => reveal<Obj[]>(c.uploads).find((u) => u.file === `/etc/kafka/botplatform/server-${ordinal}.properties`)!.content as string;

  it("runs 3 controllers that publish nothing and answer health on CONTROLLER, and 2 brokers on hostPort+i", () => {
    const byName = new Map(containers().map((c) => [c.name as string, c]));
    for (const i of [0, 1, 2]) {
      const c = byName.get(`bp-dctl-kafka-controller-${i}`)!;
      expect([c.ports, c.healthcheck.tests[3]]).toEqual([[], "exec 3<>/dev/tcp/127.0.0.1/9093"]);
      expect(config(c, i)).toContain(`\nprocess.roles=controller\nnode.id=${i}\n`);
      expect(config(c, i)).toContain("\ncontroller.quorum.voters=0@bp-dctl-kafka-controller-0:9093,1@bp-dctl-kafka-controller-1:9093,2@bp-dctl-kafka-controller-2:9093\n");
    }
    for (const i of [0, 1]) {
      const c = byName.get(`bp-dctl-kafka-broker-${i}`)!;
      expect(c.ports).toEqual([{ internal: 9094, external: 19092 + i, ip: "127.0.0.1" }]);
      expect(config(c, i)).toContain(`\nprocess.roles=broker\nnode.id=${3 + i}\n`);
    }
    const script = reveal<Obj[]>(byName.get("bp-dctl-kafka-topics")!.uploads).find((u) => u.file === "/botplatform-task/topics.sh")!.content as string;
    expect(script).toContain("bootstrap='bp-dctl-kafka-broker-0:9092,bp-dctl-kafka-broker-1:9092'");
  });
});

describe.each(kubernetesCases)("Kubernetes stage %s", (name) => {
  const get = () => planned.get(name)!;
  const pools = () => (get().stage.kafka!.controllers === 0 ? [{ name: "kafka", size: get().stage.kafka!.brokers, first: 0, port: 9092 }] : [
    { name: "kafka-controller", size: 3, first: 0, port: 9093 },
    { name: "kafka-broker", size: get().stage.kafka!.brokers, first: 3, port: 9092 },
  ]);
  const of = (type: string, suffix: string) => ofType(get().plan, type).find((r) => r.name === `bp-${get().stage.name}-${suffix}`);

  it("runs each pool as a non-root StatefulSet started in parallel, with PVCs, TCP probes and anti-affinity", () => {
    const { stage } = get();
    const ns = stage.kubernetes.namespace;
    for (const pool of pools()) {
      const sts = inputs(of("kubernetes:apps/v1:StatefulSet", `${pool.name}-sts`));
      expect([sts.metadata.name, sts.metadata.namespace, sts.spec.replicas, sts.spec.serviceName, sts.spec.podManagementPolicy]).toEqual([pool.name, ns, pool.size, `${pool.name}-headless`, "Parallel"]);
      const pod = sts.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
      expect(sts.spec.template.metadata.labels).toMatchObject(sts.spec.selector.matchLabels);
      expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels).toEqual(sts.spec.selector.matchLabels);
      const container = pod.containers[0];
      expect(container.command[2]).toContain('config="/etc/kafka/botplatform/server-$ordinal.properties"');
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(container[probe].tcpSocket).toEqual({ port: pool.port });
      expect(container.resources.limits.memory).toBe(stage.kafka!.resources.memory);
      expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stage.kafka!.storage.size);
      expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe(stage.kubernetes.storageClass);
      const mounts = Object.fromEntries(container.volumeMounts.map((m: Obj) => [m.name, m.mountPath]));
      expect(mounts).toEqual({
        data: "/var/lib/kafka/data",
        config: "/etc/kafka/botplatform",
        ...(stage.kafka!.auth.enabled && { secret: "/etc/kafka/botplatform-secrets" }),
      });
    }
  });

  it("puts every node's server.properties in the pool's ConfigMap (picked by ordinal), with per-pod DNS names", () => {
    const { stage } = get();
    const ns = stage.kubernetes.namespace;
    for (const pool of pools()) {
      const data = inputs(of("kubernetes:core/v1:ConfigMap", `${pool.name}-config`)).data as Record<string, string>;
      expect(Object.keys(data).sort()).toEqual(Array.from({ length: pool.size }, (_, i) => `server-${i}.properties`).sort());
      for (let i = 0; i < pool.size; i++) {
        const text = data[`server-${i}.properties`]!;
        expect(text).toContain(`\nnode.id=${pool.first + i}\n`);
        expect(text).toContain(`${pool.name}-${i}.${pool.name}-headless.${ns}.svc.cluster.local:`);
        expect(text).toMatch(/\ncontroller\.quorum\.voters=0@[^\n]+,1@[^\n]+,2@[^\n]+\n/);
        if (stage.kafka!.auth.enabled) expect(text).not.toContain(passwordOf(name));
      }
    }
  });

  it("keeps the SCRAM credentials in a Secret under a secret mark (or none without auth)", () => {
    const { stage } = get();
    for (const pool of pools()) {
      const secret = of("kubernetes:core/v1:Secret", `${pool.name}-secret`);
      if (!stage.kafka!.auth.enabled) {
        expect(secret).toBeUndefined();
        continue;
      }
      const stringData = inputs(secret).stringData;
      expect(isSecretMarked(stringData) || isSecretMarked(stringData["credentials.properties"])).toBe(true);
      expect(reveal<Obj>(stringData)["credentials.properties"]).toBe(`username=bus\npassword=${passwordOf(name)}\n`);
    }
  });

  it("gives every pool a headless Service publishing not-ready pods and a PDB of one; brokers a client Service", () => {
    for (const pool of pools()) {
      const headless = inputs(of("kubernetes:core/v1:Service", `${pool.name}-headless`));
      expect([headless.spec.clusterIP, headless.spec.publishNotReadyAddresses]).toEqual(["None", true]);
      const pdb = inputs(of("kubernetes:policy/v1:PodDisruptionBudget", `${pool.name}-pdb`));
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(headless.spec.selector);
      const client = of("kubernetes:core/v1:Service", `${pool.name}-client`);
      if (pool.port === 9092) expect(inputs(client).spec.ports).toEqual([{ name: "client", port: 9092, targetPort: "client" }]);
      else expect(client).toBeUndefined();
    }
  });

  it("creates the topics with a Job after the StatefulSets, its client properties in a Secret", () => {
    const { stage, plan } = get();
    const job = of("kubernetes:batch/v1:Job", "kafka-topics-job");
    expect(job!.dependsOn).toEqual(expect.arrayContaining(pools().map((p) => `bp-${stage.name}-${p.name}-sts`)));
    const files = reveal<Obj>(inputs(ofType(plan, "kubernetes:core/v1:Secret").find((s) => s.name === `bp-${stage.name}-kafka-topics-files`)).stringData);
    const brokers = pools().at(-1)!;
    expect(files["topics.sh"]).toContain(`bootstrap='${Array.from({ length: brokers.size }, (_, i) => `${brokers.name}-${i}.${brokers.name}-headless.${stage.kubernetes.namespace}.svc.cluster.local:9092`).join(",")}'`);
    for (const topic of topicNames(stage)) expect(files["topics.sh"]).toContain(`ensure_topic '${topic}' `);
    expect(files["client.properties"]).toContain(stage.kafka!.auth.enabled ? "security.protocol=SASL_PLAINTEXT" : "security.protocol=PLAINTEXT");
  });
});

describe("endpoints output", () => {
  it.each([
    ["ci", ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"], 3, true],
    ["dsolo", ["127.0.0.2:29092"], 1, false],
    ["prod", [0, 1, 2].map((i) => `kafka-broker-${i}.kafka-broker-headless.botplatform-prod.svc.cluster.local:9094`), 3, true],
  ])("stage %s exports brokers %j, clusterSize %i, SASL %s (and only as a secret)", async (name, brokers, clusterSize, sasl) => {
    const { path } = planned.get(name)!;
    const shown = await runTool("tools/plan.ts", ["--stage", path, "--outputs", "--show-secrets"]);
    expect(shown.code, shown.stderr).toBe(0);
    const kafka = (JSON.parse(shown.stdout) as Obj).endpoints.kafka;
    expect(kafka).toEqual({ brokers, clusterSize, ...(sasl && { sasl: { mechanism: "scram-sha-512", username: "bus", password: passwordOf(name) } }) });
    const masked = await runTool("tools/plan.ts", ["--stage", path, "--outputs"]);
    expect(masked.stdout).not.toContain(passwordOf(name));
  }, 120_000);
});
