/**
 * The RabbitMQ tier through the real program under Pulumi's mocks (one child process per stage): what
 * each stage with RabbitMQ would create on Docker and on Kubernetes. Stage files that hold other tiers
 * are planned with their RabbitMQ part only, so these tests do not depend on the other tiers. Plans
 * keep their secrets marked: a test reads inside a secret input and proves every secret is under a mark.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { passwordHash, passwordSalt } from "../../components/rabbitmq/config.js";
import { bytesOf } from "../../components/settings-common.js";
import type { Stage } from "../../components/stage.js";
import { maskSecrets, PLAN_GENERATED_PREFIX, PLAN_SECRET_PREFIX, type PlannedResource } from "../../tools/plan/capture.js";
import { customStack, ofType, tierOnlyStack } from "../harness/plan.js";
import { isSecretMarked, planRaw, reveal } from "../harness/plan-raw.js";

type Obj = Record<string, any>;

const cases: Record<string, () => { path: string; stage: Stage; given?: boolean }> = {
  ci: () => tierOnlyStack("ci", "rabbitmq"),
  prod: () => tierOnlyStack("prod", "rabbitmq"),
  // One node without auth on another bind address and ports; only a fire-and-forget channel.
  dsolo: () =>
    customStack("dsolo", {
      environment: "dev",
      target: "docker",
      tiers: ["rabbitmq"],
      docker: { bindAddress: "127.0.0.2" },
      rabbitmq: { nodes: 1, auth: { enabled: false }, hostPorts: { amqp: 25672, management: 35672 } },
      channels: [{ name: "market.ticks", durable: false }],
    }),
  // One pod with the password and cookie from the stack file.
  ksolo: () =>
    customStack(
      "ksolo",
      { environment: "staging", target: "kubernetes", tiers: ["rabbitmq"], rabbitmq: { nodes: 1, version: "3.13" }, smoke: { image: "registry.example/smoke:1" } },
      { rabbitmqPassword: "AAABAJ8Zq1c=", rabbitmqErlangCookie: "AAABAKc00kie" },
    ),
};

const planned = new Map<string, { plan: PlannedResource[]; stage: Stage; given: boolean }>();

beforeAll(async () => {
  await Promise.all(
    Object.entries(cases).map(async ([name, make]) => {
      const { path, stage, given } = make();
      planned.set(name, { plan: await planRaw(path), stage, given: given ?? false });
    }),
  );
}, 240_000);

const dockerCases = ["ci", "dsolo"];
const kubernetesCases = ["prod", "ksolo"];

const inputs = (r: PlannedResource | undefined): Obj => {
  if (r === undefined) throw new Error("resource not planned");
  return r.inputs as Obj;
};
/** The values the plan gives a secret: the stack file's placeholder or the generated one. */
const secretOf = (name: string, key: "rabbitmqPassword" | "rabbitmqErlangCookie"): string => {
  const { stage, given } = planned.get(name)!;
  return given ? `${PLAN_SECRET_PREFIX}botplatform-brokers:${key}` : `${PLAN_GENERATED_PREFIX}bp-${stage.name}-${key}`;
};
const passwordOf = (name: string): string => (planned.get(name)!.stage.rabbitmq!.auth.enabled ? secretOf(name, "rabbitmqPassword") : "bus");

describe.each(Object.keys(cases))("stage %s", (name) => {
  it("puts no secret, password hash or cookie in a plain input", () => {
    const { plan } = planned.get(name)!;
    const hash = passwordHash(passwordOf(name), passwordSalt(planned.get(name)!.stage.name, "bus"));
    for (const r of plan) {
      const text = JSON.stringify(maskSecrets(r.inputs));
      for (const forbidden of [PLAN_SECRET_PREFIX, PLAN_GENERATED_PREFIX, hash, "password_hash"]) expect(text, `${r.type} ${r.name}`).not.toContain(forbidden);
    }
  });

  it("builds everything under the RabbitmqTier component, named after the stage", () => {
    const { plan, stage } = planned.get(name)!;
    expect(ofType(plan, "botplatform:rabbitmq:RabbitmqTier").map((t) => t.name)).toEqual([`bp-${stage.name}-rabbitmq`]);
    const children = plan.filter((r) => r.parent === `bp-${stage.name}-rabbitmq`);
    expect(children.length).toBeGreaterThan(3);
    for (const child of children) expect(child.name.startsWith(`bp-${stage.name}-`), child.name).toBe(true);
  });

  it("generates the cookie always and the password only when auth is on and none is given", () => {
    const { plan, stage, given } = planned.get(name)!;
    const generated = ofType(plan, "random:index/randomPassword:RandomPassword").map((r) => r.name).filter((n) => n.includes("rabbitmq"));
    const expected = given ? [] : [`bp-${stage.name}-rabbitmqErlangCookie`, ...(stage.rabbitmq!.auth.enabled ? [`bp-${stage.name}-rabbitmqPassword`] : [])];
    expect(generated.sort()).toEqual(expected.sort());
  });
});

describe.each(dockerCases)("Docker stage %s", (name) => {
  const get = () => planned.get(name)!;
  const nodes = () => ofType(get().plan, "docker:index/container:Container").filter((c) => /-rabbitmq-\d+$/.test(c.name));

  it("runs one container per node, hostname = container name = the Erlang node's host, as uid 999", () => {
    const { stage } = get();
    const count = stage.rabbitmq!.nodes;
    expect(nodes().map((c) => inputs(c).name)).toEqual(Array.from({ length: count }, (_, i) => `bp-${stage.name}-rabbitmq-${i}`));
    for (const c of nodes()) {
      const i = inputs(c);
      expect(i.hostname).toBe(i.name);
      expect(i.user).toBe("999:999");
      expect(i.image).toBe(`rabbitmq:${stage.rabbitmq!.version}-management`);
      expect(i.envs).toEqual([`RABBITMQ_NODENAME=rabbit@${i.name}`, "RABBITMQ_USE_LONGNAME=false", "RABBITMQ_DIST_PORT=25672"]);
      expect(i.entrypoints.join(" ")).toContain('install -m 0600 /etc/rabbitmq-secret/erlang-cookie "$HOME/.erlang.cookie"');
      expect(i.networksAdvanced).toEqual([{ name: `bp-${stage.name}-net`, aliases: [i.name] }]);
      expect(i.memory * 1024 ** 2).toBe(bytesOf(stage.rabbitmq!.resources.memory));
    }
  });

  it("is healthy only when `rabbitmq-diagnostics check_running` passes, and `pulumi up` waits for it", () => {
    for (const c of nodes()) {
      const i = inputs(c);
      expect(i.healthcheck.tests).toEqual(["CMD", "rabbitmq-diagnostics", "-q", "check_running"]);
      expect([i.healthcheck.interval, i.healthcheck.timeout, i.healthcheck.startPeriod]).toEqual(["10s", "10s", "30s"]);
      expect([i.wait, i.waitTimeout, i.restart]).toEqual([true, 180, "unless-stopped"]);
    }
  });

  it("publishes node i's AMQP and management on bindAddress:base+i and keeps its data in its own volume", () => {
    const { plan, stage } = get();
    const volumes = ofType(plan, "docker:index/volume:Volume").map((v) => inputs(v));
    nodes().forEach((c, n) => {
      const i = inputs(c);
      const { amqp, management } = stage.rabbitmq!.hostPorts;
      expect(i.ports).toEqual([
        { internal: 5672, external: amqp + n, ip: stage.docker.bindAddress },
        { internal: 15672, external: management + n, ip: stage.docker.bindAddress },
      ]);
      expect(i.volumes).toEqual([{ volumeName: `bp-${stage.name}-rabbitmq-${n}-data`, containerPath: "/var/lib/rabbitmq" }]);
      const volume = volumes.find((v) => v.name === `bp-${stage.name}-rabbitmq-${n}-data`);
      expect(volume?.labels).toEqual(expect.arrayContaining([{ label: "io.botplatform.stage", value: stage.name }, { label: "io.botplatform.tier", value: "rabbitmq" }]));
      expect(i.labels).toEqual(expect.arrayContaining([{ label: "io.botplatform.tier", value: "rabbitmq" }]));
    });
  });

  it("uploads the config in the clear and the cookie and definitions as secrets the rabbitmq user alone reads", () => {
    const { stage } = get();
    const count = stage.rabbitmq!.nodes;
    const hash = passwordHash(passwordOf(name), passwordSalt(stage.name, "bus"));
    nodes().forEach((c, n) => {
      const raw = inputs(c).uploads;
      // The mocks mark the whole list secret when one file in it is: the config is over-masked, never a secret under-masked.
      expect(isSecretMarked(raw)).toBe(true);
      const uploads = reveal<Obj[]>(raw);
      expect(uploads.map((u) => u.file)).toEqual(["/etc/rabbitmq/rabbitmq.conf", "/etc/rabbitmq/enabled_plugins", "/etc/rabbitmq-secret/erlang-cookie", "/etc/rabbitmq-secret/definitions.json"]);
      const conf = uploads[0]!.content as string;
      for (let i = 0; i < count; i++) expect(conf).toContain(`cluster_formation.classic_config.nodes.${i + 1} = rabbit@bp-${stage.name}-rabbitmq-${i}\n`);
      expect(conf).toContain(`## RabbitMQ node ${n} of stage ${stage.name}`);
      expect(uploads[1]!.content).toBe("[rabbitmq_management].\n");
      expect([uploads[2]!.content, uploads[2]!.owner, uploads[2]!.group, uploads[2]!.permissions]).toEqual([secretOf(name, "rabbitmqErlangCookie"), "999", "999", "0400"]);
      const definitions = JSON.parse(uploads[3]!.content as string) as Obj;
      expect(definitions.users[0].password_hash).toBe(hash);
      expect(uploads[3]!.content).not.toContain(passwordOf(name) === "bus" ? "\"bus:" : passwordOf(name));
      expect(definitions.queues.length).toBe(stage.channels.filter((ch) => ch.durable).reduce((sum, ch) => sum + ch.consumerGroups.length, 0) + 1);
    });
  });
});

describe.each(kubernetesCases)("Kubernetes stage %s", (name) => {
  const get = () => planned.get(name)!;
  const one = (type: string, suffix: string) => {
    const found = ofType(get().plan, type).filter((r) => r.name === `bp-${get().stage.name}-${suffix}`);
    expect(found, `${type} ${suffix}`).toHaveLength(1);
    return inputs(found[0]);
  };
  const selector = { "app.kubernetes.io/name": "rabbitmq", "app.kubernetes.io/instance": "rabbitmq" };

  it("runs one StatefulSet as uid 999 with anti-affinity, node names from the pod DNS names", () => {
    const { stage } = get();
    const ns = stage.kubernetes.namespace;
    const sts = one("kubernetes:apps/v1:StatefulSet", "rabbitmq-sts");
    expect([sts.metadata.namespace, sts.spec.replicas, sts.spec.serviceName, sts.spec.podManagementPolicy]).toEqual([ns, stage.rabbitmq!.nodes, "rabbitmq-headless", "OrderedReady"]);
    const pod = sts.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(pod.serviceAccountName).toBe("rabbitmq-peer-discovery");
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels).toEqual(selector);
    const [container] = pod.containers;
    expect(container.image).toBe(`rabbitmq:${stage.rabbitmq!.version}-management`);
    expect(container.env).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "RABBITMQ_NODENAME", value: `rabbit@$(POD_NAME).rabbitmq-headless.${ns}.svc.cluster.local` },
      { name: "RABBITMQ_USE_LONGNAME", value: "true" },
      { name: "RABBITMQ_DIST_PORT", value: "25672" },
    ]);
    expect(container.ports).toEqual([
      { name: "amqp", containerPort: 5672 },
      { name: "management", containerPort: 15672 },
      { name: "clustering", containerPort: 25672 },
      { name: "epmd", containerPort: 4369 },
    ]);
    expect(container.resources).toEqual({ requests: { cpu: stage.rabbitmq!.resources.cpu, memory: stage.rabbitmq!.resources.memory }, limits: { memory: stage.rabbitmq!.resources.memory } });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stage.rabbitmq!.storage.size);
    expect(container.volumeMounts.map((m: Obj) => m.mountPath)).toEqual(["/var/lib/rabbitmq", "/etc/rabbitmq", "/etc/rabbitmq-secret"]);
  });

  it("probes with the broker's diagnostics and AMQP, and pre-stops like the Cluster Operator when clustered", () => {
    const { stage } = get();
    const pod = one("kubernetes:apps/v1:StatefulSet", "rabbitmq-sts").spec.template.spec;
    const [container] = pod.containers;
    expect(container.startupProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(container.livenessProbe.exec.command).toEqual(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(container.readinessProbe.tcpSocket).toEqual({ port: 5672 });
    if (stage.rabbitmq!.nodes > 1) {
      expect(container.lifecycle.preStop.exec.command[2]).toBe("rabbitmq-upgrade await_online_quorum_plus_one -t 3000 && rabbitmq-upgrade drain -t 300");
      expect(pod.terminationGracePeriodSeconds).toBe(3600);
    } else {
      expect(container.lifecycle).toBeUndefined();
    }
  });

  it("keeps rabbitmq.conf, plugins and topology in the ConfigMap, cookie and definitions in the Secret", () => {
    const { stage } = get();
    const ns = stage.kubernetes.namespace;
    const data = one("kubernetes:core/v1:ConfigMap", "rabbitmq-config").data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(["enabled_plugins", "rabbitmq.conf", "topology.json"]);
    expect(data["enabled_plugins"]).toBe("[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n");
    expect(data["rabbitmq.conf"]).toContain(`cluster_formation.k8s.hostname_suffix = .rabbitmq-headless.${ns}.svc.cluster.local\n`);
    expect(data["rabbitmq.conf"]).toContain("load_definitions = /etc/rabbitmq-secret/definitions.json\n");
    const stringData = one("kubernetes:core/v1:Secret", "rabbitmq-secret").stringData;
    expect(isSecretMarked(stringData)).toBe(true);
    const files = reveal<Record<string, string>>(stringData);
    expect(Object.keys(files).sort()).toEqual(["definitions.json", "erlang-cookie"]);
    expect(files["erlang-cookie"]).toBe(secretOf(name, "rabbitmqErlangCookie"));
    expect(JSON.parse(files["definitions.json"]!).users[0].password_hash).toBe(passwordHash(passwordOf(name), passwordSalt(stage.name, "bus")));
  });

  it("gives peer discovery its RBAC: get/list endpoints and create events, bound to its ServiceAccount", () => {
    const { stage } = get();
    const ns = stage.kubernetes.namespace;
    expect(one("kubernetes:core/v1:ServiceAccount", "rabbitmq-sa").metadata).toMatchObject({ name: "rabbitmq-peer-discovery", namespace: ns });
    expect(one("kubernetes:rbac.authorization.k8s.io/v1:Role", "rabbitmq-role").rules).toEqual([
      { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
    const binding = one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rabbitmq-rolebinding");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "rabbitmq-peer-discovery" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "rabbitmq-peer-discovery", namespace: ns }]);
  });

  it("exposes AMQP and management in the client Service, every port in the headless one, with a PDB", () => {
    const { stage } = get();
    const client = one("kubernetes:core/v1:Service", "rabbitmq-client");
    expect(client.spec.selector).toEqual(selector);
    expect(client.spec.type).toBe(stage.kubernetes.serviceType);
    expect(client.spec.ports).toEqual([
      { name: "amqp", port: 5672, targetPort: "amqp" },
      { name: "management", port: 15672, targetPort: "management" },
    ]);
    const headless = one("kubernetes:core/v1:Service", "rabbitmq-headless");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector });
    expect(headless.spec.ports).toHaveLength(4);
    expect(one("kubernetes:policy/v1:PodDisruptionBudget", "rabbitmq-pdb").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
  });
});
