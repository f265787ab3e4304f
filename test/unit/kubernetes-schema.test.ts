/**
 * Every Kubernetes object the real program plans for every Kubernetes stage in stacks/ validates
 * against the official Kubernetes OpenAPI schema (kubernetes-models, Kubernetes 1.36), and the
 * validator names the object and the field of a broken manifest.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { readStackFile } from "../../tools/stack-file.js";
import { kubernetesCases, kubernetesStages, objectRef, planKubernetesStage, stackOf, type KubernetesStagePlan, type Manifest, type PlannedManifest } from "../harness/kubernetes-manifests.js";
import { redactKeepingShape, SECRET_MARK_BASE64 } from "../harness/plan-manifests.js";
import { fieldPath, formatProblems, validateManifest, validatePlanned, SCHEMA_KUBERNETES_VERSION } from "../harness/kubernetes-schema.js";

const STAGES = kubernetesCases();
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass"]);

it("finds the Kubernetes stages in stacks/", () => {
  expect(kubernetesStages().length).toBeGreaterThan(0);
});

describe.each(STAGES)("stage %s", (stage) => {
  let planned: KubernetesStagePlan;
  beforeAll(async () => {
    planned = await planKubernetesStage(stage);
    if (planned.missingTiers.length > 0) console.warn(`[kubernetes-schema] ${stage}: planned without ${planned.missingTiers.join(", ")} (no implementation yet)`);
  }, 120_000);

  it("plans the namespace and a StatefulSet for every implemented tier", () => {
    const tiers = ((readStackFile(stackOf(stage)).stageConfig.tiers as string[] | undefined) ?? []).filter((t) => !planned.missingTiers.includes(t));
    const kinds = planned.manifests.map((m) => m.object.kind);
    expect(kinds).toContain("Namespace");
    for (const tier of tiers) {
      const sets = planned.manifests.filter((m) => m.object.kind === "StatefulSet" && m.object.metadata.labels?.["app.kubernetes.io/name"] === tier);
      expect(sets.length, `StatefulSets of ${tier}`).toBeGreaterThan(0);
    }
  });

  it(`every object validates against the Kubernetes ${SCHEMA_KUBERNETES_VERSION} OpenAPI schema`, async () => {
    const problems = await validatePlanned(planned.manifests);
    expect(formatProblems(problems)).toBe("");
  });

  it("every namespaced object is in the stage's namespace", () => {
    const namespace = planned.manifests.find((m) => m.object.kind === "Namespace")?.object.metadata.name;
    expect(namespace).toBeDefined();
    const outside = planned.manifests.filter((m) => !CLUSTER_SCOPED.has(m.object.kind) && m.object.metadata.namespace !== namespace).map((m) => objectRef(m.object));
    expect(outside).toEqual([]);
  });
});

describe("fieldPath", () => {
  it.each([
    ["", undefined, ""],
    ["", "spec", "spec"],
    ["/spec", "selector", "spec.selector"],
    ["/spec/template/spec/containers/0/ports/1/containerPort", undefined, "spec.template.spec.containers[0].ports[1].containerPort"],
    ["/metadata/labels/app.kubernetes.io~1name", undefined, "metadata.labels.app.kubernetes.io/name"],
  ])("%j + %j -> %j", (instancePath, child, expected) => {
    expect(fieldPath(instancePath, child)).toBe(expected);
  });
});

describe("the validator catches a broken manifest, naming the object and the field", () => {
  const statefulSet = (): Manifest => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "redis", namespace: "bp-test" },
    spec: {
      serviceName: "redis-headless",
      replicas: 3,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { "app.kubernetes.io/name": "redis" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "redis" } },
        spec: { containers: [{ name: "redis", image: "redis:7.4", ports: [{ name: "redis", containerPort: 6379 }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
    },
  });
  const spec = (m: Manifest) => m.spec as Record<string, unknown>;
  const container = (m: Manifest) => (((spec(m).template as { spec: { containers: Record<string, unknown>[] } }).spec.containers)[0]!);

  it("accepts the unbroken StatefulSet", async () => {
    expect(await validateManifest(statefulSet())).toEqual([]);
  });

  it.each<[string, (m: Manifest) => void, string, RegExp]>([
    ["a StatefulSet without selector", (m) => delete spec(m).selector, "spec.selector", /is required/],
    ["a wrong-typed port", (m) => ((container(m).ports as Record<string, unknown>[])[0]!.containerPort = "6379"), "spec.template.spec.containers[0].ports[0].containerPort", /must be integer/],
    ["a container without a name", (m) => delete container(m).name, "spec.template.spec.containers[0].name", /is required/],
    ["an unknown podManagementPolicy", (m) => (spec(m).podManagementPolicy = "Paralel"), "spec.podManagementPolicy", /must be one of "OrderedReady", "Parallel"/],
    ["replicas as a string", (m) => (spec(m).replicas = "3"), "spec.replicas", /must be integer/],
    ["a label value that is not a string", (m) => (m.metadata.labels = { tier: 3 as unknown as string }), "metadata.labels.tier", /must be string/],
    ["no metadata.name", (m) => delete m.metadata.name, "metadata.name", /is required/],
  ])("%s", async (_case, breakIt, field, message) => {
    const broken = statefulSet();
    breakIt(broken);
    const problems = await validateManifest(broken);
    const named = problems.find((p) => p.field === field);
    expect(named, formatProblems(problems)).toBeDefined();
    expect(named!.object).toBe(objectRef(broken));
    expect(named!.message).toMatch(message);
    expect(formatProblems(problems)).toContain(`${objectRef(broken)}: ${field}: `);
  });

  it("a kind the schema does not know", async () => {
    const problems = await validateManifest({ ...statefulSet(), kind: "StatefulSets" });
    expect(formatProblems(problems)).toBe("StatefulSets bp-test/redis: apiVersion: `apps/v1` `StatefulSets` is not a kind of Kubernetes 1.36");
  });

  it("a Pulumi type that disagrees with the object's apiVersion and kind", async () => {
    const planned: PlannedManifest = { type: "kubernetes:apps/v1:Deployment", resource: "bp-test-redis", object: statefulSet() };
    expect(formatProblems(await validatePlanned([planned]))).toBe("StatefulSet bp-test/redis: apiVersion: is `apps/v1` `StatefulSet` but the resource type is kubernetes:apps/v1:Deployment");
  });

  it("a Secret whose stringData is not text, a PDB whose maxUnavailable is an object, a Service port without a number", async () => {
    const secret: Manifest = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "n" }, stringData: { password: 42 } };
    const pdb: Manifest = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "p", namespace: "n" }, spec: { maxUnavailable: { n: 1 }, selector: { matchLabels: { a: "b" } } } };
    const service: Manifest = { apiVersion: "v1", kind: "Service", metadata: { name: "svc", namespace: "n" }, spec: { ports: [{ name: "redis" }] } };
    const text = formatProblems([...(await validateManifest(secret)), ...(await validateManifest(pdb)), ...(await validateManifest(service))]);
    expect(text).toMatch(/^Secret n\/s: stringData\.password: must be string$/m);
    expect(text).toMatch(/^PodDisruptionBudget n\/p: spec\.maxUnavailable: /m);
    expect(text).toMatch(/^Service n\/svc: spec\.ports\[0\]\.port: is required$/m);
  });
});

describe("redactKeepingShape (the manifests both suites check)", () => {
  const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
  const inputs = {
    metadata: { name: "redis-secret" },
    stringData: secret({ password: "hunter2", "auth.conf": secret("requirepass hunter2") }),
    data: secret({ cookie: "c2VjcmV0" }),
    spec: { env: [{ name: "A", value: secret("hunter2") }, { name: "B", value: "plain" }] },
  };

  it("keeps a secret map's keys, turns every secret value into [secret] (base64 under data), leaves plain values", () => {
    expect(redactKeepingShape(inputs)).toEqual({
      metadata: { name: "redis-secret" },
      stringData: { password: "[secret]", "auth.conf": "[secret]" },
      data: { cookie: SECRET_MARK_BASE64 },
      spec: { env: [{ name: "A", value: "[secret]" }, { name: "B", value: "plain" }] },
    });
    expect(Buffer.from(SECRET_MARK_BASE64, "base64").toString()).toBe("[secret]");
  });

  it("never lets a secret value through", () => {
    const text = JSON.stringify(redactKeepingShape(inputs));
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("c2VjcmV0");
  });
});
