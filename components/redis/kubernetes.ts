/**
 * The Redis model on Kubernetes: one StatefulSet (pod 0 is the primary, the others `replicaof` it by
 * its pod DNS name), every node's redis.conf in the ConfigMap (each pod starts with its own), the
 * passwords in the Secret, and a client Service that selects the primary only.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { kubernetesAddressing, type Addressing } from "../targets/addressing.js";
import { statefulNames, statefulTier, type KubernetesTarget, type StatefulTier } from "../targets/kubernetes.js";
import { renderRedisConf } from "./config.js";
import type { RedisSecretFiles } from "./docker.js";
import { AUTH_CONF_FILE, CLIENT_SERVICE, PASSWORD_FILE, PRIMARY, REDIS_PORT, REDIS_PORTS, REDIS_UID, type RedisModel } from "./model.js";
import type { RedisSettings } from "./settings.js";

export const COMPONENT = "redis";
/** The container port's name (Services target it by name). */
export const PORT_NAME = "redis";
/** The label Kubernetes puts on every StatefulSet pod; the client Service selects pod 0 with it. */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

/**
 * Peers reach pod i by its DNS name through the headless Service. Clients reach the primary through
 * the client Service (stable, selects pod 0 only) and replicas by their pod DNS names.
 */
export function redisKubernetesAddressing(namespace: string): Addressing {
  const names = statefulNames(COMPONENT);
  const pods = kubernetesAddressing({ statefulSet: names.statefulSet, headlessService: names.headlessService, namespace, ports: REDIS_PORTS });
  const service = `${names.clientService}.${namespace}.svc.cluster.local`;
  return { ...pods, client: (node, svc) => (node === PRIMARY && svc === CLIENT_SERVICE ? { host: service, port: REDIS_PORT } : pods.client(node, svc)) };
}

/** ConfigMap key of node i's config: the pod name, so a pod finds its own file as `$(POD_NAME).conf`. */
export function configKey(nodeName: string): string {
  return `${nodeName}.conf`;
}

export function redisOnKubernetes(
  model: RedisModel,
  settings: RedisSettings,
  target: KubernetesTarget,
  secrets: RedisSecretFiles | undefined,
  parent: pulumi.Resource,
): StatefulTier {
  const primary = model.nodes[PRIMARY]!;
  const paths = primary.paths;
  const env: k8s.types.input.core.v1.EnvVar[] = [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }];
  return statefulTier(
    {
      target,
      tier: "redis",
      component: COMPONENT,
      version: model.version,
      replicas: model.nodes.length,
      image: model.image,
      command: ["redis-server"],
      // Kubernetes expands $(POD_NAME) itself: no shell between the kubelet and redis-server.
      args: [`${paths.configDir}/$(POD_NAME).conf`],
      env,
      ports: [{ name: PORT_NAME, containerPort: REDIS_PORT }],
      clientPorts: [PORT_NAME],
      // Writes go to the primary only; replicas are reached by their pod DNS names.
      clientSelector: { [POD_NAME_LABEL]: primary.name },
      configFiles: Object.fromEntries(model.nodes.map((node) => [configKey(node.name), renderRedisConf(model, node)])),
      configMountPath: paths.configDir,
      secretFiles: secrets ? { [AUTH_CONF_FILE]: secrets.authConf, [PASSWORD_FILE]: secrets.password } : undefined,
      secretMountPath: secrets ? paths.secretDir : undefined,
      dataMountPath: paths.dataDir,
      storage: settings.storage,
      resources: settings.resources,
      probes: primary.health,
      runAsUser: REDIS_UID,
      // SIGTERM makes Redis fsync its AOF (or write its RDB) before it exits.
      terminationGracePeriodSeconds: 60,
    },
    parent,
  );
}
