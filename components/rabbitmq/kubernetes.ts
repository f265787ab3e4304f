/**
 * The RabbitMQ model on Kubernetes, as the RabbitMQ Cluster Operator lays it out: a StatefulSet (uid
 * 999, pods started in parallel, anti-affinity, PDB) whose pods name their Erlang node after their DNS
 * name through the headless Service, `rabbit_peer_discovery_k8s` with the RBAC it needs, the config in
 * a ConfigMap, the cookie and the definitions (password hash) in a Secret, and a pre-stop hook that
 * waits until no quorum queue depends on the pod, then drains it.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { kubernetesAddressing, type Addressing } from "../targets/addressing.js";
import { kubernetesLabels, statefulNames, statefulTier, type KubernetesTarget, type StatefulTier } from "../targets/kubernetes.js";
import type { RabbitmqSecretFiles } from "./docker.js";
import { renderEnabledPlugins, renderRabbitmqConf, topologyDefinitions } from "./config.js";
import type { RabbitmqEntry } from "./endpoint.js";
import { CONFIG_DIR, COOKIE_FILE, DATA_DIR, DEFINITIONS_FILE, RABBITMQ_PORTS, RABBITMQ_UID, SECRET_DIR, type RabbitmqModel } from "./model.js";
import type { RabbitmqSettings } from "./settings.js";

export const COMPONENT = "rabbitmq";
/** Container port names (at most 15 characters; Services target them by name). */
export const PORT_NAMES = { amqp: "amqp", management: "management", dist: "clustering", epmd: "epmd" } as const;
/** The ServiceAccount, Role and RoleBinding of peer discovery. */
export const PEER_DISCOVERY = "rabbitmq-peer-discovery";

export function rabbitmqKubernetesAddressing(namespace: string): Addressing {
  const names = statefulNames(COMPONENT);
  return kubernetesAddressing({ statefulSet: names.statefulSet, headlessService: names.headlessService, namespace, ports: RABBITMQ_PORTS });
}

/** Where in-cluster clients enter: the client Service (ready pods only). */
export function rabbitmqKubernetesEntry(namespace: string): RabbitmqEntry {
  const host = `${statefulNames(COMPONENT).clientService}.${namespace}.svc.cluster.local`;
  return { amqp: { host, port: RABBITMQ_PORTS.amqp }, management: { host, port: RABBITMQ_PORTS.management } };
}

/** Peer discovery (3.x) lists the headless Service's endpoints and records events. */
function peerDiscoveryRbac(target: KubernetesTarget, settings: RabbitmqSettings, parent: pulumi.Resource): k8s.core.v1.ServiceAccount {
  const prefix = `bp-${target.stage.name}-${COMPONENT}`;
  const metadata = { name: PEER_DISCOVERY, namespace: target.namespace, labels: kubernetesLabels(target, "rabbitmq", COMPONENT, settings.version) };
  const opts = { parent, dependsOn: [target.namespaceResource] };
  const account = new k8s.core.v1.ServiceAccount(`${prefix}-sa`, { metadata, automountServiceAccountToken: true }, opts);
  const role = new k8s.rbac.v1.Role(
    `${prefix}-role`,
    {
      metadata,
      rules: [
        { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
      ],
    },
    opts,
  );
  new k8s.rbac.v1.RoleBinding(
    `${prefix}-rolebinding`,
    {
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: target.namespace }],
    },
    opts,
  );
  return account;
}

/** One StatefulSet template names every pod's node: `$(POD_NAME)` is expanded by the kubelet. */
function podEnv(model: RabbitmqModel): k8s.types.input.core.v1.EnvVar[] {
  const formation = model.formation;
  if (formation.kind !== "kubernetes") throw new Error("the Kubernetes rendering needs a model built with kubernetes discovery");
  const env: k8s.types.input.core.v1.EnvVar[] = [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }];
  for (const [name, value] of Object.entries(model.nodes[0]?.env ?? {})) {
    env.push({ name, value: name === "RABBITMQ_NODENAME" ? formation.nodeNameTemplate : value });
  }
  return env;
}

export function rabbitmqOnKubernetes(
  model: RabbitmqModel,
  settings: RabbitmqSettings,
  target: KubernetesTarget,
  secrets: RabbitmqSecretFiles,
  parent: pulumi.Resource,
): StatefulTier {
  const account = peerDiscoveryRbac(target, settings, parent);
  return statefulTier(
    {
      target,
      tier: "rabbitmq",
      component: COMPONENT,
      version: model.version,
      replicas: model.clusterSize,
      image: model.image,
      command: model.command,
      env: podEnv(model),
      ports: (Object.keys(PORT_NAMES) as (keyof typeof PORT_NAMES)[]).map((service) => ({ name: PORT_NAMES[service], containerPort: RABBITMQ_PORTS[service] })),
      clientPorts: [PORT_NAMES.amqp, PORT_NAMES.management],
      configFiles: {
        // Every pod renders the same file: ports and bind address do not vary by pod here.
        "rabbitmq.conf": renderRabbitmqConf(model, 0),
        enabled_plugins: renderEnabledPlugins(model),
        // Not read by RabbitMQ: the non-secret part of the definitions, so a topology change rolls the
        // pods (the config hash covers the ConfigMap) and they re-import the definitions at boot.
        "topology.json": `${JSON.stringify(topologyDefinitions(model), null, 2)}\n`,
      },
      configMountPath: CONFIG_DIR,
      secretFiles: { [COOKIE_FILE]: secrets.cookie, [DEFINITIONS_FILE]: secrets.definitions },
      secretMountPath: SECRET_DIR,
      dataMountPath: DATA_DIR,
      storage: settings.storage,
      resources: settings.resources,
      probes: model.health,
      runAsUser: RABBITMQ_UID,
      terminationGracePeriodSeconds: model.terminationGracePeriodSeconds,
      preStop: model.preStop,
      serviceAccountName: account.metadata.name,
      // Pods join one after the other, as on Docker, so the pod completing the cluster imports every
      // quorum queue with a member on each running pod.
      podManagementPolicy: "OrderedReady",
    },
    parent,
  );
}
