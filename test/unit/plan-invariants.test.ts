/**
 * Invariants over every stage in stacks/: the real program, run under Pulumi's mocks, must register
 * resources that hang together on their target.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseStage } from "../../components/stage.js";
import { PLAN_GENERATED_PREFIX, PLAN_SECRET_PREFIX, type PlannedResource } from "../../tools/plan/capture.js";
import { listStages, readStackFile } from "../../tools/stack-file.js";
import { ofType, planStage } from "../harness/plan.js";

const stages = listStages();
const plans = new Map<string, PlannedResource[]>();
const replans = new Map<string, PlannedResource[]>();

type Obj = Record<string, any>;

beforeAll(async () => {
  // Two captures per stage, all in parallel child processes.
  await Promise.all(
    stages.flatMap((stage) => [
      planStage(stage).then((plan) => plans.set(stage, plan)),
      planStage(stage).then((plan) => replans.set(stage, plan)),
    ]),
  );
}, 240_000);

function stageOf(name: string) {
  const file = readStackFile(name);
  return parseStage(file.stack, file.stageConfig);
}

function podSpecs(plan: PlannedResource[]): { owner: string; spec: Obj; labels?: Obj; kind: string }[] {
  const fromSets = ofType(plan, "kubernetes:apps/v1:StatefulSet").map((r) => ({
    owner: r.name,
    spec: (r.inputs as Obj).spec.template.spec,
    labels: (r.inputs as Obj).spec.template.metadata?.labels,
    kind: "StatefulSet",
  }));
  const fromJobs = ofType(plan, "kubernetes:batch/v1:Job").map((r) => ({ owner: r.name, spec: (r.inputs as Obj).spec.template.spec, kind: "Job" }));
  return [...fromSets, ...fromJobs];
}

describe.each(stages)("stage %s", (stage) => {
  it("plans at least the target's base resources", () => {
    const plan = plans.get(stage)!;
    const target = stageOf(stage).target;
    if (target === "docker") expect(ofType(plan, "docker:index/network:Network")).toHaveLength(1);
    else expect(ofType(plan, "kubernetes:core/v1:Namespace")).toHaveLength(1);
    expect(plan.some((r) => r.type === "botplatform:index:BrokerPlatform")).toBe(true);
  });

  it("is deterministic: two runs register identical resources and inputs", () => {
    expect(JSON.stringify(replans.get(stage))).toBe(JSON.stringify(plans.get(stage)));
  });

  it("never puts a secret in a plain input", () => {
    for (const resource of plans.get(stage)!) {
      const text = JSON.stringify(resource.inputs);
      expect(text, `${resource.type} ${resource.name}`).not.toContain(PLAN_SECRET_PREFIX);
      expect(text, `${resource.type} ${resource.name}`).not.toContain(PLAN_GENERATED_PREFIX);
    }
  });

  it("gives every resource a parent (no fixed, unparented names that collide across stacks)", () => {
    for (const resource of plans.get(stage)!.filter((r) => r.type !== "botplatform:index:BrokerPlatform")) {
      expect(resource.parent, `${resource.type} ${resource.name}`).toBeDefined();
      expect(resource.name, `${resource.type} ${resource.name}`).toContain(stage);
    }
  });

  it("Docker: ports bound as configured, every volume exists, every long-running container has a health check", () => {
    const plan = plans.get(stage)!;
    const config = stageOf(stage);
    if (config.target !== "docker") return;
    const volumes = new Set(ofType(plan, "docker:index/volume:Volume").map((v) => (v.inputs as Obj).name));
    const network = (ofType(plan, "docker:index/network:Network")[0]!.inputs as Obj).name;
    for (const container of ofType(plan, "docker:index/container:Container")) {
      const inputs = container.inputs as Obj;
      for (const port of inputs.ports ?? []) expect(port.ip, `${container.name} port ${port.internal}`).toBe(config.docker.bindAddress);
      for (const volume of inputs.volumes ?? []) if (volume.volumeName) expect(volumes, `${container.name}`).toContain(volume.volumeName);
      expect(inputs.networksAdvanced?.map((n: Obj) => n.name), container.name).toContain(network);
      const oneShot = inputs.attach === true && inputs.mustRun === false;
      if (!oneShot) expect(inputs.healthcheck?.tests?.length, `${container.name} health check`).toBeGreaterThan(0);
    }
  });

  it("Kubernetes: selectors match pod labels, mounts have volumes, containers have probes, pods run as non-root", () => {
    const plan = plans.get(stage)!;
    if (stageOf(stage).target !== "kubernetes") return;
    for (const set of ofType(plan, "kubernetes:apps/v1:StatefulSet")) {
      const spec = (set.inputs as Obj).spec;
      for (const [key, value] of Object.entries(spec.selector.matchLabels as Obj)) expect(spec.template.metadata.labels[key], `${set.name} ${key}`).toBe(value);
      expect(ofType(plan, "kubernetes:core/v1:Service").map((s) => (s.inputs as Obj).metadata.name), set.name).toContain(spec.serviceName);
    }
    for (const pdb of ofType(plan, "kubernetes:policy/v1:PodDisruptionBudget")) {
      const selector = (pdb.inputs as Obj).spec.selector.matchLabels;
      const matches = podSpecs(plan).filter((p) => p.labels && Object.entries(selector).every(([k, v]) => p.labels![k] === v));
      expect(matches.length, `${pdb.name} selects a StatefulSet`).toBeGreaterThan(0);
    }
    for (const pod of podSpecs(plan)) {
      const claimNames = pod.kind === "StatefulSet" ? ((plan.find((r) => r.name === pod.owner)!.inputs as Obj).spec.volumeClaimTemplates ?? []).map((c: Obj) => c.metadata.name) : [];
      const volumeNames = new Set([...(pod.spec.volumes ?? []).map((v: Obj) => v.name), ...claimNames]);
      expect(pod.spec.securityContext?.runAsNonRoot, `${pod.owner} runAsNonRoot`).toBe(true);
      for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        for (const mount of container.volumeMounts ?? []) expect(volumeNames, `${pod.owner}/${container.name} mount ${mount.name}`).toContain(mount.name);
        if (pod.kind === "StatefulSet" && !(pod.spec.initContainers ?? []).includes(container)) {
          expect(container.readinessProbe, `${pod.owner}/${container.name} readiness`).toBeDefined();
          expect(container.livenessProbe, `${pod.owner}/${container.name} liveness`).toBeDefined();
        }
      }
    }
  });
});
