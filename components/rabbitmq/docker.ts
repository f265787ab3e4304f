/**
 * The RabbitMQ model on Docker: one container per node whose hostname is its container name (the
 * Erlang node name `rabbit@<hostname>` depends on it), config uploaded, cookie and definitions uploaded
 * as secret inputs, a named volume at /var/lib/rabbitmq, AMQP and management published on the stage's
 * bind address (node i -> base + i), healthy only when `rabbitmq-diagnostics check_running` passes.
 * Node 0 boots first; the others join it once it is healthy (classic config has no boot lock).
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { dockerAddressing, type Addressing } from "../targets/addressing.js";
import { containerName, dockerLabels, dockerMemoryMb, nodeVolume, remoteImage, type DockerTarget } from "../targets/docker.js";
import { dockerHealthcheck } from "../targets/health.js";
import { renderEnabledPlugins, renderRabbitmqConf } from "./config.js";
import { CONFIG_DIR, COOKIE_FILE, DATA_DIR, DEFINITIONS_FILE, RABBITMQ_PORTS, RABBITMQ_UID, SECRET_DIR, type RabbitmqModel } from "./model.js";
import type { RabbitmqSettings } from "./settings.js";

export const ROLE = "rabbitmq";
/** How long `pulumi up` waits for a node to turn healthy: a joining node syncs the cluster's metadata first. */
export const WAIT_TIMEOUT_S = 180;
/** Boot (plugins, definitions import) before failed checks count. */
const START_PERIOD_S = 30;
/** `rabbitmq-diagnostics` starts an Erlang VM per call: check every 10 s, allow it 10 s. */
const CHECK_PERIOD_S = 10;

export function rabbitmqDockerAddressing(target: DockerTarget, settings: Pick<RabbitmqSettings, "hostPorts">): Addressing {
  return dockerAddressing({
    containerName: (node) => containerName(target, ROLE, node),
    ports: RABBITMQ_PORTS,
    published: { amqp: settings.hostPorts.amqp, management: settings.hostPorts.management },
    clientHost: target.bindAddress,
  });
}

export interface RabbitmqSecretFiles {
  /** The Erlang cookie every node shares. */
  cookie: pulumi.Output<string>;
  /** `definitions.json`: it holds the user's password hash. */
  definitions: pulumi.Output<string>;
}

export function rabbitmqOnDocker(
  name: string,
  model: RabbitmqModel,
  settings: RabbitmqSettings,
  target: DockerTarget,
  secrets: RabbitmqSecretFiles,
  parent: pulumi.Resource,
): docker.Container[] {
  const image = remoteImage(target, ROLE, model.image, parent);
  const secretUpload = (file: string, content: pulumi.Output<string>) => ({
    file: `${SECRET_DIR}/${file}`,
    content, // already a Pulumi secret: the plan shows [secret]
    owner: String(RABBITMQ_UID),
    group: String(RABBITMQ_UID),
    permissions: "0400",
  });
  const containers: docker.Container[] = [];
  for (const node of model.nodes) {
    const hostname = containerName(target, ROLE, node.index);
    const volume = nodeVolume(target, "rabbitmq", ROLE, node.index, parent);
    // One node after the other, each healthy first: the node completing the cluster imports the
    // queues while every other node runs, so each quorum queue gets a member on every node.
    const previous = containers.at(-1);
    containers.push(
      new docker.Container(
        `${name}-${node.index}`,
        {
          name: hostname,
          hostname,
          image: image.imageId,
          user: `${RABBITMQ_UID}:${RABBITMQ_UID}`,
          entrypoints: model.command,
          envs: Object.entries(node.env).map(([key, value]) => `${key}=${value}`),
          uploads: [
            { file: `${CONFIG_DIR}/rabbitmq.conf`, content: renderRabbitmqConf(model, node.index) },
            { file: `${CONFIG_DIR}/enabled_plugins`, content: renderEnabledPlugins(model) },
            secretUpload(COOKIE_FILE, secrets.cookie),
            secretUpload(DEFINITIONS_FILE, secrets.definitions),
          ],
          networksAdvanced: [{ name: target.network.name, aliases: [hostname] }],
          ports: [
            { internal: node.ports.amqp, external: node.client.amqp.port, ip: target.bindAddress },
            { internal: node.ports.management, external: node.client.management.port, ip: target.bindAddress },
          ],
          volumes: [{ volumeName: volume.name, containerPath: DATA_DIR }],
          healthcheck: dockerHealthcheck(model.health.docker, { periodSeconds: CHECK_PERIOD_S, timeoutSeconds: CHECK_PERIOD_S, failureThreshold: 6, startPeriodSeconds: START_PERIOD_S }),
          wait: true,
          waitTimeout: WAIT_TIMEOUT_S,
          restart: "unless-stopped",
          memory: dockerMemoryMb(model.limits.totalMemoryBytes),
          labels: dockerLabels(target.stage.name, "rabbitmq"),
        },
        // Fixed container names: the old container must go before its replacement can take the name.
        { parent, deleteBeforeReplace: true, dependsOn: previous ? [previous] : [] },
      ),
    );
  }
  return containers;
}
