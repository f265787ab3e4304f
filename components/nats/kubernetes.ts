/**
 * The NATS model on Kubernetes: one StatefulSet (`nats`, pods `nats-<i>`) through `statefulTier()`, with
 * every node's nats.conf in one ConfigMap and every node's secret include in one Secret. A pod picks
 * its own files by name (`$(POD_NAME)`), so each runs exactly the config the model rendered for it.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { bytesOf } from "../settings-common.js";
import { kubernetesAddressing, type Addressing } from "../targets/addressing.js";
import { statefulNames, statefulTier, type KubernetesTarget, type StatefulTier } from "../targets/kubernetes.js";
import { renderNatsConf, renderNatsSecretConf, type NatsSecrets } from "./config.js";
import { goMemoryLimit } from "./docker.js";
import { NATS_PORTS, NATS_UID, type NatsLayout, type NatsModel } from "./model.js";
import type { NatsSettings } from "./settings.js";

export const COMPONENT = "nats";
const CONFIG_DIR = "/etc/nats";
const SECRET_DIR = "/etc/nats-secret";
const DATA_DIR = "/data";
/** After the lame duck period, seconds a pod gets to exit before the kubelet kills it. */
const TERMINATION_MARGIN_S = 30;

const podName = (node: number): string => `${COMPONENT}-${node}`;
const fileName = (node: number): string => `${podName(node)}.conf`;

export const NATS_KUBERNETES_LAYOUT: NatsLayout = {
  configFile: (node) => `${CONFIG_DIR}/${fileName(node)}`,
  secretFile: (node) => `${SECRET_DIR}/${fileName(node)}`,
  storeDir: () => DATA_DIR,
};

/** Routes and client URLs use pod DNS names: `nats-<i>.nats-headless.<ns>.svc.cluster.local`. */
export function natsKubernetesAddressing(namespace: string): Addressing {
  const names = statefulNames(COMPONENT);
  return kubernetesAddressing({ statefulSet: names.statefulSet, headlessService: names.headlessService, namespace, ports: NATS_PORTS });
}

export function natsOnKubernetes(
  model: NatsModel,
  settings: NatsSettings,
  target: KubernetesTarget,
  secrets: pulumi.Output<NatsSecrets> | undefined,
  parent: pulumi.Resource,
): StatefulTier {
  const configFiles = Object.fromEntries(model.nodes.map((node) => [fileName(node.index), renderNatsConf(model, node)]));
  const secretFiles = secrets && Object.fromEntries(model.nodes.map((node) => [fileName(node.index), secrets.apply((s) => renderNatsSecretConf(model, node, s) ?? "")]));
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "GOMEMLIMIT", value: goMemoryLimit(bytesOf(settings.resources.memory)) },
  ];
  return statefulTier(
    {
      target,
      tier: "nats",
      component: COMPONENT,
      version: model.version,
      replicas: model.nodes.length,
      image: model.image,
      // The kubelet expands $(POD_NAME): each pod reads the file rendered for it.
      command: ["nats-server", "--config", `${CONFIG_DIR}/$(POD_NAME).conf`],
      env,
      ports: [
        { name: "client", containerPort: NATS_PORTS.client },
        { name: "cluster", containerPort: NATS_PORTS.cluster },
        { name: "monitor", containerPort: NATS_PORTS.monitor },
      ],
      clientPorts: ["client"],
      configFiles,
      configMountPath: CONFIG_DIR,
      secretFiles,
      secretMountPath: secretFiles ? SECRET_DIR : undefined,
      dataMountPath: DATA_DIR,
      storage: settings.storage,
      resources: settings.resources,
      probes: model.health,
      runAsUser: NATS_UID,
      terminationGracePeriodSeconds: model.lameDuckDurationSeconds + TERMINATION_MARGIN_S,
      // Lame duck mode on pid 1 (nats-server itself): clients move to the other pods first. nats-server
      // ignores the kubelet's SIGTERM while in lame duck mode and exits when the period ends.
      preStop: ["nats-server", "--signal", "ldm=1"],
    },
    parent,
  );
}
