/**
 * The Redis tier through the real program under Pulumi's mocks (tools/plan.ts in a child process per
 * stage): what each stage with Redis would create on Docker and on Kubernetes. Stage files that also
 * hold other tiers are planned with their Redis part only (same stack name, same redis and channel
 * settings), so these tests do not depend on the other tiers' progress. Plans keep their secrets,
 * marked, so a test can read inside a secret input and still prove every password is under a mark.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseStage, type Stage } from "../../components/stage.js";
import { maskSecrets, PLAN_GENERATED_PREFIX, PLAN_SECRET_PREFIX, type PlannedResource } from "../../tools/plan/capture.js";
import { readStackFile } from "../../tools/stack-file.js";
import { customStack, ofType, tierOnlyStack } from "../harness/plan.js";
import { isSecretMarked, planRaw, reveal } from "../harness/plan-raw.js";

type Obj = Record<string, any>;

const SMOKE_IMAGE = { image: "registry.example/botplatform/smoke:1" };
const cases: Record<string, () => { path: string; stage: Stage; givenPassword?: boolean }> = {
  local: () => ({ path: "local", stage: parseStage("local", readStackFile("local").stageConfig) }),
  dev: () => tierOnlyStack("dev", "redis"),
  ci: () => tierOnlyStack("ci", "redis"),
  staging: () => tierOnlyStack("staging", "redis"),
  prod: () => tierOnlyStack("prod", "redis"),
  // Kubernetes without auth (a throw-away stage) and two replicas; the cluster's default StorageClass.
  kdev: () => customStack("kdev", { environment: "dev", target: "kubernetes", tiers: ["redis"], redis: { replicas: 2, auth: { enabled: false } }, smoke: SMOKE_IMAGE }),
  // Docker with two replicas on another bind address and port, and a password from the stack file.
  dci: () => ({
    ...customStack("dci", { environment: "ci", target: "docker", tiers: ["redis"], docker: { bindAddress: "127.0.0.2" }, redis: { replicas: 2, hostPort: 16379, persistence: "rdb" } }, { redisPassword: "AAABAJ8Zq1c=" }),
    givenPassword: true,
  }),
  // Only a Pub/Sub channel: nothing to provision, no init task.
  pubsub: () => customStack("pubsub", { environment: "ci", target: "docker", tiers: ["redis"], channels: [{ name: "market.ticks", durable: false }] }),
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

const dockerCases = Object.keys(cases).filter((c) => ["local", "dev", "ci", "dci", "pubsub"].includes(c));
const kubernetesCases = Object.keys(cases).filter((c) => !dockerCases.includes(c));

const inputs = (r: PlannedResource | undefined): Obj => {
  if (r === undefined) throw new Error("resource not planned");
  return r.inputs as Obj;
};
const durableStreams = (stage: Stage) => stage.channels.filter((c) => c.durable);
/** The value the plan gives the Redis password: the stack file's (placeholder) or the generated one. */
const passwordOf = (name: string): string => {
  const { stage, givenPassword } = planned.get(name)!;
  return givenPassword ? `${PLAN_SECRET_PREFIX}botplatform-brokers:redisPassword` : `${PLAN_GENERATED_PREFIX}bp-${stage.name}-redisPassword`;
};

describe.each(Object.keys(cases))("stage %s", (name) => {
  it("puts no secret in a plain input (every password input is marked secret)", () => {
    for (const r of planned.get(name)!.plan) {
      const text = JSON.stringify(maskSecrets(r.inputs));
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_SECRET_PREFIX);
      expect(text, `${r.type} ${r.name}`).not.toContain(PLAN_GENERATED_PREFIX);
      expect(text, `${r.type} ${r.name}`).not.toMatch(/requirepass|masterauth/);
    }
  });

  it("builds everything under the RedisTier component, named after the stage", () => {
    const { plan, stage } = planned.get(name)!;
    const tier = ofType(plan, "botplatform:redis:RedisTier");
    expect(tier.map((t) => t.name)).toEqual([`bp-${stage.name}-redis`]);
    const children = plan.filter((r) => r.parent === `bp-${stage.name}-redis`);
    expect(children.length).toBeGreaterThan(3);
    for (const child of children) expect(child.name.startsWith(`bp-${stage.name}-`), child.name).toBe(true);
  });

  it("generates a password only when auth is on and none is given", () => {
    const { plan, stage, givenPassword } = planned.get(name)!;
    const generated = ofType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name.endsWith("redisPassword"));
    expect(generated).toHaveLength(stage.redis!.auth.enabled && !givenPassword ? 1 : 0);
  });
});

describe.each(dockerCases)("Docker stage %s", (name) => {
  const get = () => planned.get(name)!;
  const nodes = () => ofType(get().plan, "docker:index/container:Container").filter((c) => /-redis-\d+$/.test(c.name));

  it("runs one container per node with the image's user, its config, a health check it waits for", () => {
    const { stage } = get();
    const redis = stage.redis!;
    expect(nodes().map((c) => inputs(c).name)).toEqual(Array.from({ length: redis.replicas + 1 }, (_, i) => `bp-${stage.name}-redis-${i}`));
    for (const c of nodes()) {
      const i = inputs(c);
      expect(i.user).toBe("999:999");
      expect(i.entrypoints).toEqual(["redis-server"]);
      expect(i.command).toEqual(["/usr/local/etc/redis/redis.conf"]);
      expect(i.restart).toBe("unless-stopped");
      expect(i.wait).toBe(true);
      expect(i.waitTimeout).toBeGreaterThan(0);
      expect(i.healthcheck.tests.slice(0, 3)).toEqual(["CMD", "sh", "-c"]);
      expect(i.healthcheck.tests[3]).toContain("redis-cli -h 127.0.0.1 -p 6379 ping");
      expect(i.healthcheck.timeout).toMatch(/^\d+s$/);
      expect(i.memory).toBe(Math.ceil(Number(/^(\d+)Mi$/.exec(redis.resources.memory)?.[1] ?? 0)));
      expect(i.networksAdvanced).toEqual([{ name: `bp-${stage.name}-net`, aliases: [i.name] }]);
    }
  });

  it("publishes node i on bindAddress:hostPort+i and keeps its data in its own volume at /data", () => {
    const { plan, stage } = get();
    const volumes = ofType(plan, "docker:index/volume:Volume").map((v) => inputs(v));
    nodes().forEach((c, n) => {
      const i = inputs(c);
      expect(i.ports).toEqual([{ internal: 6379, external: stage.redis!.hostPort + n, ip: stage.docker.bindAddress }]);
      expect(i.volumes).toEqual([{ volumeName: `bp-${stage.name}-redis-${n}-data`, containerPath: "/data" }]);
      const volume = volumes.find((v) => v.name === `bp-${stage.name}-redis-${n}-data`);
      expect(volume?.labels).toEqual(expect.arrayContaining([{ label: "io.botplatform.stage", value: stage.name }, { label: "io.botplatform.tier", value: "redis" }]));
    });
  });

  it("labels every node with stage, tier and its role", () => {
    const { stage } = get();
    nodes().forEach((c, n) => {
      expect(inputs(c).labels).toEqual(
        expect.arrayContaining([
          { label: "io.botplatform.stage", value: stage.name },
          { label: "io.botplatform.tier", value: "redis" },
          { label: "io.botplatform.redis-role", value: n === 0 ? "primary" : "replica" },
        ]),
      );
    });
  });

  it("uploads redis.conf (replicas follow node 0 by container name) and the passwords, under a secret mark", () => {
    const { stage } = get();
    const auth = stage.redis!.auth.enabled;
    nodes().forEach((c, n) => {
      const raw = inputs(c).uploads;
      // The mocks mark the whole list secret when one file in it is: the config is over-masked, never a password under-masked.
      expect(isSecretMarked(raw)).toBe(auth);
      const uploads = reveal<Obj[]>(raw);
      const config = uploads.find((u) => u.file === "/usr/local/etc/redis/redis.conf")!;
      expect(config.content).toContain(`maxmemory-policy ${stage.redis!.evictionPolicy}`);
      if (n > 0) expect(config.content).toContain(`replicaof bp-${stage.name}-redis-0 6379\n`);
      else expect(config.content).not.toContain("replicaof");
      const secret = uploads.filter((u) => u.file.startsWith("/run/secrets/redis/"));
      if (auth) {
        const password = passwordOf(name);
        expect(config.content).toContain("include /run/secrets/redis/auth.conf");
        expect(config.content).not.toContain(password);
        expect(secret.map((u) => [u.file, u.content, u.owner, u.permissions])).toEqual([
          ["/run/secrets/redis/auth.conf", `requirepass "${password}"\nmasterauth "${password}"\n`, "999", "0400"],
          ["/run/secrets/redis/password", password, "999", "0400"],
        ]);
      } else {
        expect(config.content).not.toContain("include");
        expect(secret).toEqual([]);
      }
    });
  });

  it("provisions the durable channels with a one-shot task after the nodes, or not at all", () => {
    const { plan, stage } = get();
    const task = ofType(plan, "docker:index/container:Container").find((c) => c.name === `bp-${stage.name}-redis-channels`);
    if (durableStreams(stage).length === 0) {
      expect(task).toBeUndefined();
      return;
    }
    const i = inputs(task);
    expect([i.attach, i.mustRun, i.image]).toEqual([true, false, stage.redis!.image ?? `redis:${stage.redis!.version}`]);
    expect([...i.entrypoints, ...i.command]).toEqual(["sh", "/botplatform-task/init.sh"]);
    const uploads = reveal<Obj[]>(i.uploads);
    expect(isSecretMarked(i.uploads)).toBe(stage.redis!.auth.enabled);
    const script = uploads.find((u) => u.file === "/botplatform-task/init.sh")!.content as string;
    expect(script).toContain(`host='bp-${stage.name}-redis-0'\nport=6379\n`);
    for (const channel of durableStreams(stage)) {
      for (const group of channel.consumerGroups) expect(script).toContain(`'XGROUP' 'CREATE' '${channel.name}' '${group}' '$' 'MKSTREAM'`);
      expect(script).toContain(`'XTRIM' '${channel.name}' 'MAXLEN' '~' '${channel.retention.maxMessages}'`);
    }
    expect(script).toContain(stage.redis!.auth.enabled ? "IFS= read -r REDISCLI_AUTH < '/botplatform-task/password'" : "set -eu");
    const password = uploads.find((u) => u.file === "/botplatform-task/password");
    expect(password?.content).toBe(stage.redis!.auth.enabled ? passwordOf(name) : undefined);
  });
});

describe.each(kubernetesCases)("Kubernetes stage %s", (name) => {
  const get = () => planned.get(name)!;
  const one = (type: string, suffix: string) => {
    const found = ofType(get().plan, type).filter((r) => r.name === `bp-${get().stage.name}-${suffix}`);
    expect(found, `${type} ${suffix}`).toHaveLength(1);
    return inputs(found[0]);
  };

  it("runs replicas + 1 pods of one StatefulSet as uid 999, each starting on its own config", () => {
    const { stage } = get();
    const sts = one("kubernetes:apps/v1:StatefulSet", "redis-sts");
    expect(sts.metadata.namespace).toBe(stage.kubernetes.namespace);
    expect(sts.spec.replicas).toBe(stage.redis!.replicas + 1);
    const pod = sts.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    const [container] = pod.containers;
    expect(container.image).toBe(`redis:${stage.redis!.version}`);
    expect(container.command).toEqual(["redis-server"]);
    expect(container.args).toEqual(["/usr/local/etc/redis/$(POD_NAME).conf"]);
    expect(container.env).toEqual([{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
    expect(container.resources).toEqual({ requests: { cpu: stage.redis!.resources.cpu, memory: stage.redis!.resources.memory }, limits: { memory: stage.redis!.resources.memory } });
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      expect(container[probe].exec.command.slice(0, 2), probe).toEqual(["sh", "-c"]);
      expect(container[probe].exec.command[2], probe).toContain("redis-cli -h 127.0.0.1 -p 6379 ping");
    }
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stage.redis!.storage.size);
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe(stage.kubernetes.storageClass);
  });

  it("holds one redis.conf per pod in the ConfigMap; pod 0 is the primary, the rest follow it by DNS name", () => {
    const { stage } = get();
    const data = one("kubernetes:core/v1:ConfigMap", "redis-config").data as Record<string, string>;
    const ns = stage.kubernetes.namespace;
    expect(Object.keys(data).sort()).toEqual(Array.from({ length: stage.redis!.replicas + 1 }, (_, i) => `redis-${i}.conf`));
    expect(data["redis-0.conf"]).not.toContain("replicaof");
    for (let i = 1; i <= stage.redis!.replicas; i++) expect(data[`redis-${i}.conf`]).toContain(`replicaof redis-0.redis-headless.${ns}.svc.cluster.local 6379\n`);
    for (const text of Object.values(data)) expect(text.includes("include /run/secrets/redis/auth.conf")).toBe(stage.redis!.auth.enabled);
  });

  it("keeps the passwords in a Secret mounted apart from the config, only with auth", () => {
    const { plan, stage } = get();
    const secret = ofType(plan, "kubernetes:core/v1:Secret").find((s) => s.name === `bp-${stage.name}-redis-secret`);
    const pod = one("kubernetes:apps/v1:StatefulSet", "redis-sts").spec.template.spec;
    const mounts = pod.containers[0].volumeMounts.map((m: Obj) => m.mountPath);
    if (stage.redis!.auth.enabled) {
      const password = passwordOf(name);
      expect(isSecretMarked(inputs(secret).stringData)).toBe(true);
      expect(reveal(inputs(secret).stringData)).toEqual({ "auth.conf": `requirepass "${password}"\nmasterauth "${password}"\n`, password });
      expect(mounts).toContain("/run/secrets/redis");
    } else {
      expect(secret).toBeUndefined();
      expect(mounts).not.toContain("/run/secrets/redis");
    }
  });

  it("selects only the primary in the client Service, every pod in the headless one, and guards them with a PDB", () => {
    const { stage } = get();
    const client = one("kubernetes:core/v1:Service", "redis-client");
    expect(client.spec.selector).toEqual({ "app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "redis", "statefulset.kubernetes.io/pod-name": "redis-0" });
    expect(client.spec.type).toBe(stage.kubernetes.serviceType);
    expect(client.spec.ports).toEqual([{ name: "redis", port: 6379, targetPort: "redis" }]);
    const headless = one("kubernetes:core/v1:Service", "redis-headless");
    expect(headless.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "redis" } });
    expect(one("kubernetes:policy/v1:PodDisruptionBudget", "redis-pdb").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "redis" } } });
  });

  it("provisions the channels with a Job against pod 0, its script and password in a Secret", () => {
    const { stage } = get();
    const job = one("kubernetes:batch/v1:Job", "redis-channels-job");
    expect(job.spec.template.spec.containers[0].command).toEqual(["sh", "/botplatform-task/init.sh"]);
    expect(job.spec.template.spec.securityContext.runAsUser).toBe(999);
    const files = one("kubernetes:core/v1:Secret", "redis-channels-files").stringData;
    expect(isSecretMarked(files)).toBe(true);
    const revealed = reveal<Record<string, string>>(files);
    expect(revealed["init.sh"]).toContain(`host='redis-0.redis-headless.${stage.kubernetes.namespace}.svc.cluster.local'\nport=6379\n`);
    expect(revealed.password).toBe(stage.redis!.auth.enabled ? passwordOf(name) : undefined);
  });
});
