/**
 * What the API server accepts but a cluster would still trip over: cross-object references. Pure
 * functions over a stage's objects (as stored by the API server); each returns every problem as
 * `<Kind ns/name>: <what is wrong>`, [] when all is well.
 */
import { objectRef, type Manifest } from "./kubernetes-manifests.js";

/* The few fields these checks read; everything else stays opaque. */
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
interface KeyRef {
  name?: string;
  key?: string;
  optional?: boolean;
}
interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string }[];
  env?: { valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } }[];
  envFrom?: { secretRef?: KeyRef; configMapRef?: KeyRef }[];
}
interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: {
    name: string;
    configMap?: KeyRef & { items?: { key: string }[] };
    secret?: { secretName?: string; optional?: boolean; items?: { key: string }[] };
  }[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}
interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: { accessModes?: string[]; resources?: { requests?: { storage?: string } } };
}

type Spec<T> = Manifest & { spec: T };
type StatefulSet = Spec<{ serviceName?: string; selector: LabelSelector; template: PodTemplate; volumeClaimTemplates?: ClaimTemplate[] }>;
type Service = Spec<{ clusterIP?: string; publishNotReadyAddresses?: boolean; selector?: Record<string, string>; ports?: { name?: string; targetPort?: number | string }[] }>;
type Pdb = Spec<{ selector?: LabelSelector }>;
type RoleBinding = Manifest & { roleRef: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[] };

const ofKind = <T extends Manifest>(objects: Manifest[], kind: string) => objects.filter((o) => o.kind === kind) as T[];
const find = (objects: Manifest[], kind: string, namespace: string | undefined, name: string | undefined) =>
  objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);

/** True when every label the selector asks for is on the pods (matchLabels only: that is what we use). */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Pod templates of the workloads (StatefulSets, Jobs, Deployments). */
function podTemplates(objects: Manifest[]): { owner: Manifest; template: PodTemplate }[] {
  return objects
    .filter((o) => ["StatefulSet", "Job", "Deployment"].includes(o.kind))
    .map((o) => ({ owner: o, template: (o.spec as { template: PodTemplate }).template }));
}

/**
 * The labels each pod will carry: the template's plus those the controller adds, which a Service may
 * select (e.g. only `statefulset.kubernetes.io/pod-name: redis-0`, the primary).
 */
function podLabelSets(owner: Manifest, template: PodTemplate): Record<string, string>[] {
  const labels = template.metadata?.labels ?? {};
  const name = owner.metadata.name ?? "";
  if (owner.kind === "Job") return [{ ...labels, "batch.kubernetes.io/job-name": name, "job-name": name }];
  if (owner.kind !== "StatefulSet") return [labels];
  const replicas = (owner.spec as { replicas?: number }).replicas ?? 1;
  return Array.from({ length: replicas }, (_, i) => ({ ...labels, "statefulset.kubernetes.io/pod-name": `${name}-${i}`, "apps.kubernetes.io/pod-index": String(i) }));
}

/** serviceName names a headless Service (clusterIP None, not-ready addresses published) that selects the pods. */
export function statefulSetServiceProblems(objects: Manifest[]): string[] {
  return ofKind<StatefulSet>(objects, "StatefulSet").flatMap((sts) => {
    const ref = objectRef(sts);
    const service = find(objects, "Service", sts.metadata.namespace, sts.spec.serviceName) as Service | undefined;
    if (!sts.spec.serviceName) return [`${ref}: spec.serviceName is empty: pods get no stable DNS names`];
    if (!service) return [`${ref}: spec.serviceName \`${sts.spec.serviceName}\` is no Service in ${sts.metadata.namespace}`];
    const problems: string[] = [];
    if (service.spec.clusterIP !== "None") problems.push(`${ref}: its Service ${sts.spec.serviceName} is not headless (clusterIP ${service.spec.clusterIP})`);
    if (service.spec.publishNotReadyAddresses !== true) problems.push(`${ref}: its Service ${sts.spec.serviceName} does not publish not-ready addresses: peers cannot find each other to form a cluster`);
    if (!selects(service.spec.selector, sts.spec.template.metadata?.labels)) problems.push(`${ref}: its Service ${sts.spec.serviceName} does not select its pods`);
    return problems;
  });
}

/** Every claim template asks for storage and is mounted, or the data lives on the container's layer. */
export function volumeClaimProblems(objects: Manifest[]): string[] {
  return ofKind<StatefulSet>(objects, "StatefulSet").flatMap((sts) => {
    const ref = objectRef(sts);
    const claims = sts.spec.volumeClaimTemplates ?? [];
    if (claims.length === 0) return [`${ref}: no volumeClaimTemplates: broker data would not survive a restart`];
    const mounted = new Set(sts.spec.template.spec.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
    return claims.flatMap((claim) => {
      const name = claim.metadata?.name ?? "<no name>";
      const problems: string[] = [];
      if (!claim.spec?.resources?.requests?.storage) problems.push(`${ref}: volumeClaimTemplate ${name} requests no storage`);
      if (!claim.spec?.accessModes?.length) problems.push(`${ref}: volumeClaimTemplate ${name} has no accessModes`);
      if (!mounted.has(name)) problems.push(`${ref}: volumeClaimTemplate ${name} is mounted by no container`);
      return problems;
    });
  });
}

/** Each StatefulSet's pods are covered by exactly one PDB, and no PDB covers nothing. */
export function podDisruptionBudgetProblems(objects: Manifest[]): string[] {
  const sets = ofKind<StatefulSet>(objects, "StatefulSet");
  const pdbs = ofKind<Pdb>(objects, "PodDisruptionBudget");
  const covering = (sts: StatefulSet) => pdbs.filter((p) => p.metadata.namespace === sts.metadata.namespace && selects(p.spec.selector?.matchLabels, sts.spec.template.metadata?.labels));
  const problems = sets.flatMap((sts) => {
    const n = covering(sts).length;
    return n === 1 ? [] : [`${objectRef(sts)}: its pods are covered by ${n} PodDisruptionBudgets (${covering(sts).map((p) => p.metadata.name).join(", ") || "none"}); want exactly 1`];
  });
  for (const pdb of pdbs) {
    if (!sets.some((sts) => covering(sts).includes(pdb))) problems.push(`${objectRef(pdb)}: selects the pods of no StatefulSet`);
  }
  return problems;
}

/** Every Service with a selector reaches some workload's pods, on ports those pods declare. */
export function serviceSelectorProblems(objects: Manifest[]): string[] {
  const templates = podTemplates(objects);
  return ofKind<Service>(objects, "Service").flatMap((service) => {
    if (!service.spec.selector) return [];
    const ref = objectRef(service);
    const targets = templates.filter((t) => t.owner.metadata.namespace === service.metadata.namespace && podLabelSets(t.owner, t.template).some((labels) => selects(service.spec.selector, labels)));
    if (targets.length === 0) return [`${ref}: its selector ${JSON.stringify(service.spec.selector)} matches no workload's pods`];
    const declared = new Set(targets.flatMap((t) => t.template.spec.containers.flatMap((c) => (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]))));
    return (service.spec.ports ?? []).filter((p) => p.targetPort !== undefined && !declared.has(p.targetPort)).map((p) => `${ref}: port ${p.name ?? "?"} targets ${p.targetPort}, which its pods do not declare`);
  });
}

function dataKeys(object: Manifest | undefined): Set<string> {
  const keys = [object?.data, object?.stringData, object?.binaryData].flatMap((d) => (typeof d === "object" && d !== null ? Object.keys(d) : []));
  return new Set(keys);
}

/** ConfigMaps, Secrets (and their keys) and ServiceAccounts that pod templates use all exist. */
export function podReferenceProblems(objects: Manifest[]): string[] {
  return podTemplates(objects).flatMap(({ owner, template }) => {
    const ref = objectRef(owner);
    const ns = owner.metadata.namespace;
    const problems: string[] = [];
    const need = (kind: string, name: string | undefined, keys: string[], optional: boolean | undefined, where: string) => {
      if (optional) return;
      const target = find(objects, kind, ns, name);
      if (!target) return problems.push(`${ref}: ${where} uses ${kind} \`${name ?? ""}\`, which the stage does not create`);
      const present = dataKeys(target);
      for (const key of keys.filter((k) => !present.has(k))) problems.push(`${ref}: ${where} uses key \`${key}\` of ${kind} ${name}, which it does not have`);
    };
    for (const volume of template.spec.volumes ?? []) {
      if (volume.configMap) need("ConfigMap", volume.configMap.name, (volume.configMap.items ?? []).map((i) => i.key), volume.configMap.optional, `volume ${volume.name}`);
      if (volume.secret) need("Secret", volume.secret.secretName, (volume.secret.items ?? []).map((i) => i.key), volume.secret.optional, `volume ${volume.name}`);
    }
    for (const container of [...template.spec.containers, ...(template.spec.initContainers ?? [])]) {
      for (const env of container.env ?? []) {
        const s = env.valueFrom?.secretKeyRef;
        const c = env.valueFrom?.configMapKeyRef;
        if (s) need("Secret", s.name, s.key ? [s.key] : [], s.optional, `container ${container.name}'s env`);
        if (c) need("ConfigMap", c.name, c.key ? [c.key] : [], c.optional, `container ${container.name}'s env`);
      }
      for (const from of container.envFrom ?? []) {
        if (from.secretRef) need("Secret", from.secretRef.name, [], from.secretRef.optional, `container ${container.name}'s envFrom`);
        if (from.configMapRef) need("ConfigMap", from.configMapRef.name, [], from.configMapRef.optional, `container ${container.name}'s envFrom`);
      }
    }
    const account = template.spec.serviceAccountName;
    if (account && account !== "default" && !find(objects, "ServiceAccount", ns, account)) problems.push(`${ref}: serviceAccountName \`${account}\` is no ServiceAccount the stage creates`);
    return problems;
  });
}

/** RoleBindings point at Roles and ServiceAccounts that exist. */
export function roleBindingProblems(objects: Manifest[]): string[] {
  return ofKind<RoleBinding>(objects, "RoleBinding").flatMap((binding) => {
    const ref = objectRef(binding);
    const ns = binding.metadata.namespace;
    const problems: string[] = [];
    if (binding.roleRef.kind === "Role" && !find(objects, "Role", ns, binding.roleRef.name)) problems.push(`${ref}: roleRef Role \`${binding.roleRef.name}\` does not exist`);
    for (const subject of binding.subjects ?? []) {
      if (subject.kind === "ServiceAccount" && !find(objects, "ServiceAccount", subject.namespace ?? ns, subject.name)) problems.push(`${ref}: subject ServiceAccount \`${subject.name}\` does not exist`);
    }
    if ((binding.subjects ?? []).length === 0) problems.push(`${ref}: binds no subject`);
    return problems;
  });
}

export const STAGE_CHECKS = {
  "StatefulSet serviceName -> headless Service": statefulSetServiceProblems,
  "volume claim templates": volumeClaimProblems,
  "PodDisruptionBudgets": podDisruptionBudgetProblems,
  "Service selectors and target ports": serviceSelectorProblems,
  "pod template references": podReferenceProblems,
  "RoleBindings": roleBindingProblems,
} as const;
