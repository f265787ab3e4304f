/**
 * The Kubernetes objects the real program registers for a stage, as manifests: what both the schema
 * suite (test/unit/kubernetes-schema.test.ts) and the API-server suite (test/kubernetes-api/) check.
 * Stages are discovered from stacks/, so a new Kubernetes stage (or a tier that lands) is covered
 * without touching the tests; a few variants cover settings the shipped stages leave at one value.
 */
import { listStages, readStackFile } from "../../tools/stack-file.js";
import { runTool, writeStackFile } from "./plan.js";

/** A Kubernetes object as planned (secret values are the string `[secret]`). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface PlannedManifest {
  /** The Pulumi type token, e.g. `kubernetes:apps/v1:StatefulSet`. */
  type: string;
  /** The Pulumi resource name, e.g. `bp-prod-redis-sts`. */
  resource: string;
  object: Manifest;
}

export interface KubernetesStagePlan {
  stage: string;
  manifests: PlannedManifest[];
  /** Tiers the stage lists that have no implementation yet; planned without them (see `planKubernetesStage`). */
  missingTiers: string[];
}

const PROJECT_PREFIX = "botplatform-brokers:";
const MISSING_TIERS = /tiers without an implementation: ([a-z, ]+)/;
const TIER_NAMES = ["redis", "nats", "kafka", "rabbitmq"];

/** Every stage in stacks/ whose `target` is kubernetes. */
export function kubernetesStages(): string[] {
  return listStages().filter((stage) => readStackFile(stage).stageConfig.target === "kubernetes");
}

/**
 * Kubernetes stages no stack file ships but a team may well write: every default, auth off with single
 * nodes and NodePort Services (a dev cluster), Kafka in combined mode with LoadBalancer Services. They
 * take the code paths the shipped stages do not (no Secrets without auth, combined KRaft pools, ...).
 */
export const KUBERNETES_VARIANTS: Readonly<Record<string, Record<string, unknown>>> = {
  "k8s-defaults": { environment: "staging", target: "kubernetes", tiers: ["redis", "nats", "kafka", "rabbitmq"], smoke: { image: "registry.example.internal/botplatform/smoke:test" } },
  "k8s-dev-noauth": {
    environment: "dev",
    target: "kubernetes",
    tiers: ["redis", "nats", "kafka", "rabbitmq"],
    kubernetes: { serviceType: "NodePort" },
    redis: { auth: { enabled: false } },
    nats: { nodes: 1, auth: { enabled: false } },
    kafka: { brokers: 1, auth: { enabled: false } },
    rabbitmq: { auth: { enabled: false } },
    smoke: { enabled: false },
  },
  "k8s-combined": {
    environment: "prod",
    target: "kubernetes",
    tiers: ["redis", "kafka", "rabbitmq"],
    kubernetes: { serviceType: "LoadBalancer" },
    redis: { replicas: 0, persistence: "none" },
    kafka: { brokers: 3, controllers: 0 },
    rabbitmq: { nodes: 3 },
    smoke: { image: "registry.example.internal/botplatform/smoke:test" },
  },
};

/** The shipped Kubernetes stages, then the variants: what both suites iterate over. */
export function kubernetesCases(): string[] {
  return [...kubernetesStages(), ...Object.keys(KUBERNETES_VARIANTS)];
}

const variantFiles = new Map<string, string>();

/** A shipped stage's name, or the (once written) temp stack file of a variant. */
export function stackOf(name: string): string {
  const variant = KUBERNETES_VARIANTS[name];
  if (!variant) return name;
  if (!variantFiles.has(name)) variantFiles.set(name, writeStackFile(name, variant));
  return variantFiles.get(name)!;
}

/** `StatefulSet botplatform-prod/redis`: how every message names an object. */
export function objectRef(object: Pick<Manifest, "kind" | "metadata">): string {
  const { name, namespace } = object.metadata ?? {};
  return `${object.kind} ${namespace ? `${namespace}/` : ""}${name ?? "<no name>"}`;
}

/** The stage's Kubernetes objects, secrets redacted but keeping their keys (see plan-manifests.ts). */
async function planManifests(stageOrPath: string): Promise<PlannedManifest[]> {
  const result = await runTool("test/harness/plan-manifests.ts", [stageOrPath]);
  if (result.code !== 0) throw new Error(`plan of ${stageOrPath} failed (exit ${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as PlannedManifest[];
}

/**
 * Plans a Kubernetes stage. While another engineer's tier has not landed, the program refuses the stage
 * (`tiers without an implementation: X`); then the same stack file is planned without those tiers (and
 * their settings), and `missingTiers` says which were left out. Any other plan failure throws.
 */
export async function planKubernetesStage(stage: string): Promise<KubernetesStagePlan> {
  try {
    return { stage, manifests: await planManifests(stackOf(stage)), missingTiers: [] };
  } catch (error) {
    const missing = MISSING_TIERS.exec((error as Error).message)?.[1]?.split(",").map((t) => t.trim()).filter((t) => TIER_NAMES.includes(t));
    if (!missing || missing.length === 0) throw error;
    const file = readStackFile(stackOf(stage));
    const config = Object.fromEntries(
      Object.entries(file.config).filter(([key]) => !missing.some((tier) => belongsToTier(key, tier))),
    );
    const tiers = (config[`${PROJECT_PREFIX}tiers`] as string[] | undefined) ?? [];
    config[`${PROJECT_PREFIX}tiers`] = tiers.filter((tier) => !missing.includes(tier));
    return { stage, manifests: await planManifests(writeStackFile(stage, config)), missingTiers: missing };
  }
}

/** `botplatform-brokers:nats`, and its secrets such as `botplatform-brokers:rabbitmqErlangCookie`. */
function belongsToTier(key: string, tier: string): boolean {
  const rest = key.startsWith(`${PROJECT_PREFIX}${tier}`) ? key.slice(PROJECT_PREFIX.length + tier.length) : undefined;
  return rest !== undefined && (rest === "" || /^[A-Z]/.test(rest));
}

/**
 * The order `kubectl apply` would need on an empty cluster: the Namespace, then what pods reference
 * (accounts, RBAC, config, secrets, services), then workloads, then what selects them, then Jobs.
 */
const APPLY_ORDER = ["Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret", "Service", "StatefulSet", "Deployment", "PodDisruptionBudget", "Job"];

export function applyOrder(manifests: PlannedManifest[]): PlannedManifest[] {
  const rank = (m: PlannedManifest) => {
    const i = APPLY_ORDER.indexOf(m.object.kind);
    return i === -1 ? APPLY_ORDER.length : i;
  };
  return [...manifests].sort((a, b) => rank(a) - rank(b) || objectRef(a.object).localeCompare(objectRef(b.object)));
}
