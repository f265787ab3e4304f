/**
 * What every tier shares on Kubernetes: the stage namespace, the recommended `app.kubernetes.io/*`
 * labels, and `statefulTier()`: a StatefulSet with its headless Service (stable per-pod DNS names),
 * client Service, PodDisruptionBudget, non-root security context, resources, probes and anti-affinity.
 */
import * as k8s from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceSettings, StorageSettings } from "../settings-common.js";
import type { Stage, TierName } from "../stage.js";
import { kubernetesProbe, type HealthCheck } from "./health.js";

export interface KubernetesTarget {
  kind: "kubernetes";
  /** The namespace name (known before the Namespace exists, so models can compute pod DNS names). */
  namespace: string;
  namespaceResource: k8s.core.v1.Namespace;
  stage: Stage;
}

export function createKubernetesTarget(stage: Stage, parent: pulumi.Resource): KubernetesTarget {
  const namespace = stage.kubernetes.namespace;
  const namespaceResource = new k8s.core.v1.Namespace(
    `bp-${stage.name}-ns`,
    { metadata: { name: namespace, labels: { "app.kubernetes.io/part-of": "botplatform", "app.kubernetes.io/managed-by": "botplatform-brokers", "botplatform.io/stage": stage.name } } },
    { parent },
  );
  return { kind: "kubernetes", namespace, namespaceResource, stage };
}

/** Selector labels: stable for the life of a StatefulSet (a selector cannot change). */
export function selectorLabels(tier: TierName, component: string): Record<string, string> {
  return { "app.kubernetes.io/name": tier, "app.kubernetes.io/instance": component };
}

export function kubernetesLabels(target: KubernetesTarget, tier: TierName, component: string, version: string): Record<string, string> {
  return {
    ...selectorLabels(tier, component),
    "app.kubernetes.io/version": version,
    "app.kubernetes.io/component": "broker",
    "app.kubernetes.io/part-of": "botplatform",
    "app.kubernetes.io/managed-by": "botplatform-brokers",
    "botplatform.io/stage": target.stage.name,
  };
}

export interface StatefulTierArgs {
  target: KubernetesTarget;
  tier: TierName;
  /** StatefulSet name, e.g. `nats`, `kafka-controller`. */
  component: string;
  version: string;
  replicas: number;
  image: string;
  command?: string[];
  args?: string[];
  env?: k8s.types.input.core.v1.EnvVar[];
  ports: { name: string; containerPort: number }[];
  /** Port names the client Service exposes; no client Service when empty. */
  clientPorts: string[];
  /** Extra selector for the client Service (e.g. only the Redis primary). */
  clientSelector?: Record<string, string>;
  /** Rendered config files: one ConfigMap, mounted read-only at `configMountPath`. */
  configFiles: Record<string, pulumi.Input<string>>;
  configMountPath: string;
  /** Secret files (passwords, cookies): one Secret, mounted read-only at `secretMountPath`. */
  secretFiles?: Record<string, pulumi.Input<string>>;
  secretMountPath?: string;
  dataMountPath: string;
  storage: StorageSettings;
  resources: ResourceSettings;
  probes: { startup: HealthCheck; readiness: HealthCheck; liveness: HealthCheck };
  /** The image's own non-root user. */
  runAsUser: number;
  /** Seconds a pod gets to drain (lame duck, leadership transfer) before it is killed. @default 60 */
  terminationGracePeriodSeconds?: number;
  preStop?: string[];
  serviceAccountName?: pulumi.Input<string>;
  /** Pods start together so clustered brokers find each other (they tolerate missing peers). @default "Parallel" */
  podManagementPolicy?: "Parallel" | "OrderedReady";
}

export interface StatefulTier {
  statefulSet: k8s.apps.v1.StatefulSet;
  headlessService: k8s.core.v1.Service;
  clientService?: k8s.core.v1.Service;
  headlessServiceName: string;
  clientServiceName: string;
  configMap: k8s.core.v1.ConfigMap;
  secret?: k8s.core.v1.Secret;
  podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
}

/** Names a tier model needs before any resource exists (pod DNS names depend on them). */
export function statefulNames(component: string) {
  return { statefulSet: component, headlessService: `${component}-headless`, clientService: component };
}

export function statefulTier(args: StatefulTierArgs, parent: pulumi.Resource): StatefulTier {
  const { target, component } = args;
  const names = statefulNames(component);
  const prefix = `bp-${target.stage.name}-${component}`;
  const labels = kubernetesLabels(target, args.tier, component, args.version);
  const selector = selectorLabels(args.tier, component);
  const opts = { parent, dependsOn: [target.namespaceResource] };
  const metadata = (name: string) => ({ name, namespace: target.namespace, labels });

  const configMap = new k8s.core.v1.ConfigMap(`${prefix}-config`, { metadata: metadata(`${component}-config`), data: args.configFiles }, opts);
  const secret = args.secretFiles
    ? new k8s.core.v1.Secret(`${prefix}-secret`, { metadata: metadata(`${component}-secret`), type: "Opaque", stringData: args.secretFiles }, opts)
    : undefined;

  const headlessService = new k8s.core.v1.Service(
    `${prefix}-headless`,
    {
      metadata: metadata(names.headlessService),
      spec: {
        clusterIP: "None",
        // Peers must resolve each other before they are ready, or a cluster can never form.
        publishNotReadyAddresses: true,
        selector,
        ports: args.ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name })),
      },
    },
    opts,
  );
  const clientService =
    args.clientPorts.length > 0
      ? new k8s.core.v1.Service(
          `${prefix}-client`,
          {
            metadata: metadata(names.clientService),
            spec: {
              type: target.stage.kubernetes.serviceType,
              selector: { ...selector, ...args.clientSelector },
              ports: args.ports.filter((p) => args.clientPorts.includes(p.name)).map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name })),
            },
          },
          opts,
        )
      : undefined;

  const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "data", mountPath: args.dataMountPath },
    { name: "config", mountPath: args.configMountPath, readOnly: true },
  ];
  const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "config", configMap: { name: configMap.metadata.name } }];
  if (secret && args.secretMountPath) {
    volumeMounts.push({ name: "secret", mountPath: args.secretMountPath, readOnly: true });
    volumes.push({ name: "secret", secret: { secretName: secret.metadata.name, defaultMode: 0o400 } });
  }

  const statefulSet = new k8s.apps.v1.StatefulSet(
    `${prefix}-sts`,
    {
      metadata: metadata(names.statefulSet),
      spec: {
        serviceName: names.headlessService,
        replicas: args.replicas,
        podManagementPolicy: args.podManagementPolicy ?? "Parallel",
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels,
            // A config change rolls the pods: the ConfigMap content is part of the pod template.
            annotations: {
              "botplatform.io/config-hash": pulumi.output(args.configFiles).apply(hashOf),
              // A changed password must restart the pods too. A truncated SHA-256 of high-entropy
              // secrets reveals nothing, so it is shown in plain text.
              ...(args.secretFiles ? { "botplatform.io/secret-hash": pulumi.unsecret(pulumi.output(args.secretFiles).apply(hashOf)) } : {}),
            },
          },
          spec: {
            serviceAccountName: args.serviceAccountName,
            terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 60,
            securityContext: { runAsNonRoot: true, runAsUser: args.runAsUser, runAsGroup: args.runAsUser, fsGroup: args.runAsUser, seccompProfile: { type: "RuntimeDefault" } },
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } } },
                ],
              },
            },
            containers: [
              {
                name: args.tier,
                image: args.image,
                command: args.command,
                args: args.args,
                env: args.env,
                ports: args.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
                resources: {
                  requests: { cpu: args.resources.cpu, memory: args.resources.memory },
                  limits: { memory: args.resources.memory },
                },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                volumeMounts,
                startupProbe: kubernetesProbe(args.probes.startup, { periodSeconds: 5, failureThreshold: 60 }),
                readinessProbe: kubernetesProbe(args.probes.readiness, { periodSeconds: 10, failureThreshold: 3 }),
                livenessProbe: kubernetesProbe(args.probes.liveness, { periodSeconds: 30, failureThreshold: 3 }),
                lifecycle: args.preStop ? { preStop: { exec: { command: args.preStop } } } : undefined,
              },
            ],
            volumes,
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: selector },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: target.stage.kubernetes.storageClass,
              resources: { requests: { storage: args.storage.size } },
            },
          },
        ],
      },
    },
    { ...opts, dependsOn: [target.namespaceResource, configMap, ...(secret ? [secret] : [])] },
  );

  const podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
    `${prefix}-pdb`,
    // One pod at a time: a 3-node quorum survives a voluntary disruption.
    { metadata: metadata(component), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
    opts,
  );

  return { statefulSet, headlessService, clientService, headlessServiceName: names.headlessService, clientServiceName: names.clientService, configMap, secret, podDisruptionBudget };
}

function hashOf(files: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const key of Object.keys(files).sort()) hash.update(key).update("\0").update(files[key] ?? "").update("\0");
  return hash.digest("hex").slice(0, 16);
}
