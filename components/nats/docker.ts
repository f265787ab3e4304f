/**
 * The NATS model on Docker: one container per node on the stage network, its nats.conf uploaded, its
 * secret include uploaded as a secret input, a named volume for the JetStream store, client and
 * monitoring ports published on the stage's bind address (node i -> hostPorts.<port> + i).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { bytesOf } from "../settings-common.js";
import { dockerAddressing, type Addressing } from "../targets/addressing.js";
import { containerName, dockerLabels, dockerMemoryMb, nodeVolume, remoteImage, type DockerTarget } from "../targets/docker.js";
import { dockerHealthcheck } from "../targets/health.js";
import { IMAGE_CONTRACTS } from "../targets/image-contract.js";
import { renderNatsConf, renderNatsSecretConf, type NatsSecrets } from "./config.js";
import { NATS_PORTS, type NatsLayout, type NatsModel } from "./model.js";
import type { NatsSettings } from "./settings.js";

export const ROLE = "nats";
/** How long `pulumi up` waits for a container to turn healthy (JetStream enabled and its store recovered). */
export const WAIT_TIMEOUT_S = 120;
/** Health check grace after start (store recovery) before failures count. */
const START_PERIOD_S = 10;
/** GOMEMLIMIT as a share of the memory limit: the Go GC works harder before the kernel OOM-kills. */
const GO_MEMORY_LIMIT_SHARE = 0.9;
/** After the lame duck period, seconds the container gets to exit before Docker kills it. */
const STOP_MARGIN_S = 10;

export const NATS_DOCKER_LAYOUT: NatsLayout = {
  configFile: () => "/etc/nats/nats.conf",
  secretFile: () => "/etc/nats/secret/nats-secret.conf",
  storeDir: () => IMAGE_CONTRACTS.nats.dataDir,
};

/** Peers reach node i by container name on the stage network; clients on the host use `hostPorts.* + i`. */
export function natsDockerAddressing(target: DockerTarget, settings: Pick<NatsSettings, "hostPorts">): Addressing {
  return dockerAddressing({
    containerName: (node) => containerName(target, ROLE, node),
    ports: NATS_PORTS,
    published: { client: settings.hostPorts.client, monitor: settings.hostPorts.monitor },
    clientHost: target.bindAddress,
  });
}

/** `GOMEMLIMIT` for a memory limit, in MiB. */
export function goMemoryLimit(memoryBytes: number): string {
  return `${Math.floor((memoryBytes * GO_MEMORY_LIMIT_SHARE) / (1024 * 1024))}MiB`;
}

export function natsOnDocker(
  name: string,
  model: NatsModel,
  settings: NatsSettings,
  target: DockerTarget,
  secrets: pulumi.Output<NatsSecrets> | undefined,
  parent: pulumi.Resource,
): docker.Container[] {
  const image = remoteImage(target, ROLE, model.image, parent);
  const memory = bytesOf(settings.resources.memory);
  const stopSeconds = model.lameDuckDurationSeconds + STOP_MARGIN_S;
  return model.nodes.map((node) => {
    const volume = nodeVolume(target, "nats", ROLE, node.index, parent);
    const secretConf = secrets?.apply((s) => renderNatsSecretConf(model, node, s) ?? "");
    return new docker.Container(
      `${name}-${node.index}`,
      {
        name: node.name,
        hostname: node.name,
        image: image.imageId,
        command: ["nats-server", "--config", node.configFile],
        uploads: [
          { file: node.configFile, content: renderNatsConf(model, node) },
          ...(secretConf ? [{ file: node.secretFile, content: pulumi.secret(secretConf), permissions: "0400" }] : []),
        ],
        networksAdvanced: [{ name: target.networkName, aliases: [node.name] }],
        ports: [
          { internal: NATS_PORTS.client, external: node.client.port, ip: target.bindAddress },
          { internal: NATS_PORTS.monitor, external: node.clientMonitor.port, ip: target.bindAddress },
        ],
        volumes: [{ volumeName: volume.name, containerPath: node.storeDir }],
        envs: [`GOMEMLIMIT=${goMemoryLimit(memory)}`],
        memory: dockerMemoryMb(memory),
        healthcheck: dockerHealthcheck(model.health.liveness, { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 12, startPeriodSeconds: START_PERIOD_S }),
        // `pulumi up` reports success (and the init task and smoke checks start) only once every node
        // has JetStream enabled, not merely once the process runs.
        wait: true,
        waitTimeout: WAIT_TIMEOUT_S,
        restart: "unless-stopped",
        // SIGUSR2 is lame duck mode: the node hands its clients to its peers, then exits by itself.
        stopSignal: "SIGUSR2",
        stopTimeout: stopSeconds,
        destroyGraceSeconds: stopSeconds,
        labels: dockerLabels(target.stage.name, "nats"),
      },
      { parent, dependsOn: [target.network, volume] },
    );
  });
}
