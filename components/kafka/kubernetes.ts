/**
 * The Kafka model on Kubernetes: one StatefulSet per pool through `statefulTier()` (combined nodes, or
 * dedicated controllers and brokers), headless Services for the per-pod DNS names the listeners
 * advertise, a client Service on the brokers, PVCs, a ConfigMap with every node's properties (the pod
 * picks its own by ordinal), the SASL credentials in a Secret, PDBs, TCP probes. A thin translation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { dirname } from "node:path";
import { kubernetesAddressing, type Addressing } from "../targets/addressing.js";
import { statefulNames, statefulTier, type KubernetesTarget, type StatefulTier } from "../targets/kubernetes.js";
import type { KafkaSettings } from "./settings.js";
import { poolConfigFiles, startCommand } from "./config.js";
import { kafkaHealthCheck } from "./health.js";
import { KAFKA_DATA_MOUNT, KAFKA_IMAGE_UID, KAFKA_PORTS, type KafkaModel, type KafkaPoolLayout } from "./model.js";

/** Seconds a pod gets for its controlled shutdown (partition leadership moves away) before SIGKILL. */
const TERMINATION_GRACE_SECONDS = 120;
/** The file name of the credentials in the pool's Secret; `CONTAINER_PATHS.credentialsFile` is its mount. */
const CREDENTIALS_KEY = "credentials.properties";

export function kafkaKubernetesAddressing(target: KubernetesTarget): (pool: KafkaPoolLayout) => Addressing {
  return (pool) => {
    const names = statefulNames(pool.name);
    return kubernetesAddressing({ statefulSet: names.statefulSet, headlessService: names.headlessService, namespace: target.namespace, ports: KAFKA_PORTS });
  };
}

export interface KafkaKubernetesArgs {
  target: KubernetesTarget;
  model: KafkaModel;
  settings: KafkaSettings;
  /** The SASL credentials file content, a Pulumi secret; absent without SASL. */
  credentials?: pulumi.Output<string>;
}

export function kafkaKubernetesPools(args: KafkaKubernetesArgs, parent: pulumi.Resource): StatefulTier[] {
  const { target, model, settings } = args;
  if (args.credentials && !model.paths.credentialsFile.endsWith(`/${CREDENTIALS_KEY}`)) {
    throw new Error(`the credentials file must be named ${CREDENTIALS_KEY} to be mounted from the Secret`);
  }
  return model.pools.map((pool) => {
    const health = kafkaHealthCheck(pool, "kubernetes");
    return statefulTier(
      {
        target,
        tier: "kafka",
        component: pool.name,
        version: model.version,
        replicas: pool.size,
        image: model.image,
        command: startCommand(model),
        ports: pool.listenerKeys.map((key) => ({ name: key, containerPort: KAFKA_PORTS[key] })),
        clientPorts: pool.roles.includes("broker") ? ["client"] : [],
        configFiles: poolConfigFiles(model, pool),
        configMountPath: model.paths.configDir,
        ...(args.credentials && { secretFiles: { [CREDENTIALS_KEY]: args.credentials }, secretMountPath: dirname(model.paths.credentialsFile) }),
        dataMountPath: KAFKA_DATA_MOUNT,
        storage: settings.storage,
        resources: settings.resources,
        probes: { startup: health, readiness: health, liveness: health },
        runAsUser: KAFKA_IMAGE_UID,
        terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        // Every node must start at once: a broker opens its port only once the quorum has formed.
        podManagementPolicy: "Parallel",
      },
      parent,
    );
  });
}
