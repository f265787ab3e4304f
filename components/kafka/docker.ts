/**
 * The Kafka model on Docker: per node a container on the stage network with its own volume, its
 * `server-<i>.properties` (and, with SASL, the secret credentials file) uploaded, a TCP health check,
 * and brokers' EXTERNAL listener published on `bindAddress:hostPort+i`. A thin translation.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { bytesOf } from "../settings-common.js";
import { dockerAddressing, type Addressing } from "../targets/addressing.js";
import { containerName, dockerLabels, dockerMemoryMb, nodeVolume, remoteImage, type DockerTarget } from "../targets/docker.js";
import { dockerHealthcheck } from "../targets/health.js";
import { poolConfigFiles, serverPropertiesFile, startCommand } from "./config.js";
import { kafkaHealthCheck } from "./health.js";
import { KAFKA_DATA_MOUNT, KAFKA_IMAGE_UID, KAFKA_PORTS, listenerOf, type KafkaModel, type KafkaPool, type KafkaPoolLayout } from "./model.js";

/** Seconds a container may take to turn healthy: JVM start plus the quorum forming. */
const WAIT_TIMEOUT_SECONDS = 180;
/** Seconds Docker gives a broker for its controlled shutdown (leadership moves) before SIGKILL. */
const STOP_TIMEOUT_SECONDS = 60;

export function kafkaDockerAddressing(target: DockerTarget, hostPort: number): (pool: KafkaPoolLayout) => Addressing {
  return (pool) =>
    dockerAddressing({
      containerName: (ordinal) => containerName(target, pool.name, ordinal),
      ports: KAFKA_PORTS,
      published: pool.roles.includes("broker") ? { external: hostPort } : {},
      clientHost: target.bindAddress,
    });
}

export interface KafkaDockerArgs {
  target: DockerTarget;
  model: KafkaModel;
  memory: string;
  /** The SASL credentials file content, a Pulumi secret; absent without SASL. */
  credentials?: pulumi.Output<string>;
}

export function kafkaDockerNodes(args: KafkaDockerArgs, parent: pulumi.Resource): docker.Container[] {
  const { target, model } = args;
  const image = remoteImage(target, "kafka", model.image, parent);
  return model.pools.flatMap((pool) => pool.nodes.map((node) => nodeContainer(args, pool, node.ordinal, image, parent)));
}

function nodeContainer(args: KafkaDockerArgs, pool: KafkaPool, ordinal: number, image: docker.RemoteImage, parent: pulumi.Resource): docker.Container {
  const { target, model } = args;
  const node = pool.nodes[ordinal]!;
  const name = containerName(target, pool.name, ordinal);
  const volume = nodeVolume(target, "kafka", pool.name, ordinal, parent);
  const configFile = serverPropertiesFile(node);
  const uploads: docker.types.input.ContainerUpload[] = [
    { file: `${model.paths.configDir}/${configFile}`, content: poolConfigFiles(model, pool)[configFile]!, permissions: "0444" },
  ];
  if (args.credentials) {
    uploads.push({ file: model.paths.credentialsFile, content: args.credentials, owner: String(KAFKA_IMAGE_UID), permissions: "0400" });
  }
  const isBroker = pool.roles.includes("broker");
  return new docker.Container(
    name,
    {
      name,
      // The start script reads the node's ordinal from the host name's last `-<i>`.
      hostname: name,
      image: image.imageId,
      command: startCommand(model),
      networksAdvanced: [{ name: target.networkName, aliases: [name] }],
      // Published where the EXTERNAL listener advertises it: hostPort + i on bindAddress.
      ports: isBroker ? [{ internal: KAFKA_PORTS.external, external: listenerOf(node, "external").advertised!.port, ip: target.bindAddress }] : [],
      volumes: [{ volumeName: volume.name, containerPath: KAFKA_DATA_MOUNT }],
      uploads,
      memory: dockerMemoryMb(bytesOf(args.memory)),
      healthcheck: dockerHealthcheck(kafkaHealthCheck(pool, "docker"), { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 6, startPeriodSeconds: 30 }),
      // All nodes are created in parallel; each turns healthy only once the quorum has formed.
      wait: true,
      waitTimeout: WAIT_TIMEOUT_SECONDS,
      stopTimeout: STOP_TIMEOUT_SECONDS,
      restart: "unless-stopped",
      labels: dockerLabels(target.stage.name, "kafka"),
    },
    { parent, dependsOn: [target.network] },
  );
}
