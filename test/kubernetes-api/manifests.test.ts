/**
 * Every Kubernetes stage's planned manifests, applied to a real kube-apiserver + etcd on 127.0.0.1:
 * server-side dry run (strict field validation), then for real, in dependency order; then what the
 * server stored is read back and checked against what we meant, and across objects (Services, PDBs,
 * volumes, references, RBAC), and the pods the workloads would create are admitted as Pods under
 * the restricted Pod Security Standard. Skips (saying why) only when the binaries could not be built.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeBinaries, startKubeApiServer, type KubeApiServer } from "../harness/kube-apiserver.js";
import { describeFailure, FIELD_MANAGER, type KubeClient } from "../harness/kube-client.js";
import { STAGE_CHECKS } from "../harness/kubernetes-checks.js";
import { applyOrder, kubernetesCases, kubernetesStages, objectRef, planKubernetesStage, type KubernetesStagePlan, type Manifest } from "../harness/kubernetes-manifests.js";
import { storedDifferences } from "../harness/kubernetes-stored.js";

const BINARIES = kubeBinaries();
const MISSING = "missing" in BINARIES ? BINARIES.missing : undefined;
const STAGES = kubernetesCases();
if (MISSING) console.warn(`[kubernetes-api] SKIPPED: ${MISSING}`);

/** Pod Security Standard the workloads' pods must pass (they run non-root, no privilege, RuntimeDefault seccomp). */
const POD_SECURITY_LEVEL = "restricted";

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { volumes?: unknown[]; [key: string]: unknown };
}

/** The first Pod a StatefulSet or Job controller would create (no controller runs here, so we do). */
function firstPod(owner: Manifest): Manifest {
  const spec = owner.spec as { template: PodTemplate; serviceName?: string; volumeClaimTemplates?: { metadata: { name: string } }[] };
  const name = owner.kind === "StatefulSet" ? `${owner.metadata.name}-0` : `${owner.metadata.name}-first`;
  const claims = (spec.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-${name}` } }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: owner.metadata.namespace, labels: spec.template.metadata?.labels, annotations: spec.template.metadata?.annotations },
    spec: {
      ...spec.template.spec,
      ...(owner.kind === "StatefulSet" ? { hostname: name, subdomain: spec.serviceName } : {}),
      volumes: [...(spec.template.spec.volumes ?? []), ...claims],
    },
  };
}

async function subjectMay(client: KubeClient, user: string, namespace: string, verb: string, resource: string, group: string): Promise<boolean> {
  const review = { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`], resourceAttributes: { namespace, verb, resource, group } } };
  const response = await client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review);
  if (response.status !== 201) throw new Error(`SubjectAccessReview: ${describeFailure(response)}`);
  return (response.body as { status: { allowed: boolean } }).status.allowed;
}

describe.skipIf(MISSING !== undefined)(`planned manifests on a real kube-apiserver`, () => {
  let server: KubeApiServer | undefined;
  const plans = new Map<string, KubernetesStagePlan>();
  const client = () => server!.client;

  beforeAll(async () => {
    if ("missing" in BINARIES) return;
    const [started, ...planned] = await Promise.allSettled([startKubeApiServer(BINARIES), ...STAGES.map(planKubernetesStage)]);
    if (started.status === "fulfilled") server = started.value;
    for (const result of [started, ...planned]) if (result.status === "rejected") throw result.reason;
    for (const result of planned) if (result.status === "fulfilled") plans.set(result.value.stage, result.value);
    for (const plan of plans.values()) {
      if (plan.missingTiers.length > 0) console.warn(`[kubernetes-api] ${plan.stage}: planned without ${plan.missingTiers.join(", ")} (no implementation yet)`);
    }
  }, 300_000);

  afterAll(async () => {
    server?.client.close();
    await server?.stop();
  }, 60_000);

  it("finds the Kubernetes stages and serves the pinned Kubernetes version", async () => {
    expect(kubernetesStages().length).toBeGreaterThan(0);
    const version = await client().request("GET", "/version");
    expect((version.body as { gitVersion: string }).gitVersion).toBe((BINARIES as { version: string }).version);
  });

  describe("refuses what the schema layer cannot see, naming object and field", () => {
    const NEGATIVE_NS = "bp-negative";
    /** A real planned StatefulSet, moved to a namespace of its own, then broken one way. */
    const plannedStatefulSet = (): Manifest => {
      const sts = [...plans.values()].flatMap((p) => p.manifests).find((m) => m.object.kind === "StatefulSet");
      expect(sts, "some stage plans a StatefulSet").toBeDefined();
      const copy = structuredClone(sts!.object);
      copy.metadata.namespace = NEGATIVE_NS;
      return copy;
    };
    const containers = (m: Manifest) => (m.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers;

    // Server-side apply refuses a field its schema lacks before validation, as HTTP 500 (not 422).
    it.each<[string, (m: Manifest) => void, string, RegExp]>([
      ["the unbroken StatefulSet is accepted", () => undefined, "", /^$/],
      ["an unknown (misspelt) field", (m) => (containers(m)[0]!.imagePullPolicyy = "Always"), "HTTP 500", /\.spec\.template\.spec\.containers\[name="[a-z-]+"\]\.imagePullPolicyy: field not declared in schema/],
      ["a selector that does not match the pod template's labels", (m) => ((m.spec as { selector: unknown }).selector = { matchLabels: { "app.kubernetes.io/name": "other" } }), "HTTP 422", /spec\.template\.metadata\.labels: .*`selector` does not match template `labels`/],
      ["a port name longer than 15 characters", (m) => ((containers(m)[0]!.ports as { name: string }[])[0]!.name = "a-very-long-port-name"), "HTTP 422", /spec\.template\.spec\.containers\[0\]\.ports\[0\]\.name: .*must be no more than 15 characters/],
    ])("%s", async (_case, breakIt, status, refusal) => {
      const namespace = await client().apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NEGATIVE_NS } }, { dryRun: false });
      expect(namespace.status, describeFailure(namespace)).toBeLessThan(300);
      const broken = plannedStatefulSet();
      breakIt(broken);
      const response = await client().apply(broken, { dryRun: true });
      const text = response.status < 300 ? "" : `${objectRef(broken)}: ${describeFailure(response)}`;
      expect(text).toMatch(refusal);
      if (status !== "") expect(text).toContain(`StatefulSet ${NEGATIVE_NS}/${broken.metadata.name}: ${status}`);
    });

    it("a deprecated field is reported as a warning (what `pulumi up` would print)", async () => {
      await client().apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NEGATIVE_NS } }, { dryRun: false });
      const sts = plannedStatefulSet();
      const sound = await client().apply(sts, { dryRun: true });
      expect(sound.warnings).toEqual([]);
      (sts.spec as { template: { spec: Record<string, unknown> } }).template.spec.nodeSelector = { "beta.kubernetes.io/arch": "amd64" };
      const warned = await client().apply(sts, { dryRun: true });
      expect(warned.status, describeFailure(warned)).toBeLessThan(300);
      expect(warned.warnings.join("\n")).toMatch(/spec\.template\.spec\.nodeSelector\[beta\.kubernetes\.io\/arch\]: deprecated/);
    });

    it(`a pod that may run as root is refused under the ${POD_SECURITY_LEVEL} Pod Security Standard`, async () => {
      const labels = { "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVEL };
      const namespace = await client().apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NEGATIVE_NS, labels } }, { dryRun: false });
      expect(namespace.status, describeFailure(namespace)).toBeLessThan(300);
      await client().apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NEGATIVE_NS } }, { dryRun: false });
      const sts = plannedStatefulSet();
      const podSpec = (sts.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      const sound = await client().create(firstPod(sts), { dryRun: true });
      expect(sound.status, describeFailure(sound)).toBeLessThan(300);
      delete podSpec.securityContext;
      const refused = await client().create(firstPod(sts), { dryRun: true });
      expect(describeFailure(refused)).toMatch(/HTTP 403 Forbidden: .*violates PodSecurity "restricted:latest": .*runAsNonRoot/);
    });
  });

  describe.each(STAGES)("stage %s", (stage) => {
    const manifests = () => applyOrder(plans.get(stage)!.manifests).map((m) => m.object);
    const stored = async () => Promise.all(manifests().map(async (m) => (await client().get(m)) ?? m));

    it("server-side dry run accepts every object (strict field validation)", async () => {
      const [namespace, ...rest] = manifests();
      expect(namespace?.kind).toBe("Namespace");
      // Namespaced objects can only be dry-run inside a namespace that exists.
      for (const dryRun of [true, false]) {
        const response = await client().apply(namespace!, { dryRun });
        // Server-side apply answers 201 when it creates, 200 when it updates or dry-runs.
        expect(response.status, `${objectRef(namespace!)}: ${describeFailure(response)}`).toBeLessThan(300);
      }
      const failures: string[] = [];
      for (const object of rest) {
        const response = await client().apply(object, { dryRun: true });
        if (response.status >= 300) failures.push(`${objectRef(object)}: ${describeFailure(response)}`);
        // `pulumi up` would print these: deprecated fields, values accepted but likely wrong.
        failures.push(...response.warnings.map((w) => `${objectRef(object)}: warning: ${w}`));
      }
      expect(failures.join("\n")).toBe("");
    });

    it("applies every object for real, in dependency order", async () => {
      const failures: string[] = [];
      for (const object of manifests()) {
        const response = await client().apply(object, { dryRun: false });
        if (response.status >= 300) failures.push(`${objectRef(object)}: ${describeFailure(response)}`);
      }
      expect(failures.join("\n")).toBe("");
    });

    it("stored every field as sent", async () => {
      const all = manifests();
      const back = await Promise.all(all.map((m) => client().get(m)));
      expect(all.flatMap((m, i) => storedDifferences(m, back[i])).join("\n")).toBe("");
    });

    it("a second apply of the same manifests changes nothing (same resourceVersion)", async () => {
      const before = (await stored()).map((o) => `${objectRef(o)} ${String(o.metadata.resourceVersion)}`);
      for (const object of manifests()) await client().apply(object, { dryRun: false });
      const after = (await stored()).map((o) => `${objectRef(o)} ${String(o.metadata.resourceVersion)}`);
      expect(after).toEqual(before);
    });

    it.each(Object.entries(STAGE_CHECKS))("cross-object check: %s", async (_name, check) => {
      expect(check(await stored()).join("\n")).toBe("");
    });

    it("every ServiceAccount may do what its RoleBindings grant, as the RBAC authorizer decides", async (ctx) => {
      const objects = await stored();
      const bindings = objects.filter((o) => o.kind === "RoleBinding") as (Manifest & { roleRef: { name: string }; subjects?: { kind: string; name: string }[] })[];
      if (bindings.length === 0) ctx.skip("no RoleBindings planned");
      const denied: string[] = [];
      for (const binding of bindings) {
        const ns = binding.metadata.namespace!;
        const role = objects.find((o) => o.kind === "Role" && o.metadata.namespace === ns && o.metadata.name === binding.roleRef.name) as { rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[] } | undefined;
        for (const subject of (binding.subjects ?? []).filter((s) => s.kind === "ServiceAccount")) {
          for (const rule of role?.rules ?? []) {
            for (const resource of rule.resources ?? []) {
              for (const verb of rule.verbs ?? []) {
                const user = `system:serviceaccount:${ns}:${subject.name}`;
                if (!(await subjectMay(client(), user, ns, verb, resource, rule.apiGroups?.[0] ?? ""))) denied.push(`${user} may not ${verb} ${resource} (${objectRef(binding)})`);
              }
            }
          }
        }
      }
      expect(denied).toEqual([]);
    });

    it("RabbitMQ's pods may get endpoints in their namespace (k8s peer discovery)", async (ctx) => {
      const sets = (await stored()).filter((o) => o.kind === "StatefulSet" && o.metadata.labels?.["app.kubernetes.io/name"] === "rabbitmq");
      if (sets.length === 0) ctx.skip(`stage ${stage} plans no RabbitMQ StatefulSet${plans.get(stage)!.missingTiers.includes("rabbitmq") ? " (rabbitmq has no implementation yet)" : ""}`);
      for (const sts of sets) {
        const ns = sts.metadata.namespace!;
        const account = (sts.spec as { template: { spec: { serviceAccountName?: string } } }).template.spec.serviceAccountName;
        expect(account, `${objectRef(sts)}: serviceAccountName`).toBeTruthy();
        expect(await subjectMay(client(), `system:serviceaccount:${ns}:${account}`, ns, "get", "endpoints", "")).toBe(true);
        expect(await subjectMay(client(), `system:serviceaccount:${ns}:${account}`, ns, "delete", "endpoints", ""), "least privilege").toBe(false);
      }
    });

    it(`the first pod of every StatefulSet and Job is admitted under the ${POD_SECURITY_LEVEL} Pod Security Standard`, async () => {
      const objects = manifests();
      const namespace = objects[0]!;
      const workloads = objects.filter((o) => o.kind === "StatefulSet" || o.kind === "Job");
      expect(workloads.length).toBeGreaterThan(0);
      // What the controller-manager would do: every namespace has a `default` ServiceAccount.
      const account = await client().apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: namespace.metadata.name } }, { dryRun: false });
      expect(account.status, describeFailure(account)).toBeLessThan(300);
      const labels = { [`pod-security.kubernetes.io/enforce`]: POD_SECURITY_LEVEL };
      const patch = { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace.metadata.name, labels } };
      const query = new URLSearchParams({ fieldManager: `${FIELD_MANAGER}-pss` });
      const labelled = await client().request("PATCH", `/api/v1/namespaces/${namespace.metadata.name}?${query}`, patch, "application/apply-patch+yaml");
      expect(labelled.status, describeFailure(labelled)).toBe(200);
      const refused: string[] = [];
      for (const workload of workloads) {
        const response = await client().create(firstPod(workload), { dryRun: true });
        if (response.status >= 300) refused.push(`${objectRef(workload)}: ${describeFailure(response)}`);
      }
      expect(refused.join("\n")).toBe("");
    });
  });
});
