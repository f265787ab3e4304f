/**
 * The Redis model on Docker: one container per node on the stage network, its redis.conf uploaded,
 * the passwords uploaded as secret inputs, a named volume at /data, the node's port published on the
 * stage's bind address (node i -> hostPort + i).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { bytesOf } from "../settings-common.js";
import { dockerAddressing, type Addressing } from "../targets/addressing.js";
import { containerName, dockerLabels, dockerMemoryMb, nodeVolume, remoteImage, type DockerTarget } from "../targets/docker.js";
import { dockerHealthcheck } from "../targets/health.js";
import { renderRedisConf } from "./config.js";
import { AUTH_CONF_FILE, PASSWORD_FILE, REDIS_PORTS, REDIS_UID, type RedisModel } from "./model.js";
import type { RedisSettings } from "./settings.js";

export const ROLE = "redis";
/** The node's config file inside its container. */
export const CONFIG_FILE = "redis.conf";
/** Label that tells a primary from its replicas (`docker ps --filter label=io.botplatform.redis-role=primary`). */
export const DOCKER_LABEL_REDIS_ROLE = "io.botplatform.redis-role";
/** How long `pulumi up` waits for a container to turn healthy; an AOF to load can take a while. */
export const WAIT_TIMEOUT_S = 120;
/** Health check grace after start (AOF load) before failures count. */
const START_PERIOD_S = 10;

/** Containers reach node i by its name on the stage network; the host reaches it on `hostPort + i`. */
export function redisDockerAddressing(target: DockerTarget, settings: Pick<RedisSettings, "hostPort">): Addressing {
  return dockerAddressing({
    containerName: (node) => containerName(target, ROLE, node),
    ports: REDIS_PORTS,
    published: { client: settings.hostPort },
    clientHost: target.bindAddress,
  });
}

export interface RedisSecretFiles {
  /** `auth.conf` content (requirepass, masterauth). */
  authConf: pulumi.Output<string>;
  password: pulumi.Output<string>;
}

export function redisOnDocker(
  name: string,
  model: RedisModel,
  settings: RedisSettings,
  target: DockerTarget,
  secrets: RedisSecretFiles | undefined,
  parent: pulumi.Resource,
): docker.Container[] {
  const image = remoteImage(target, ROLE, model.image, parent);
  return model.nodes.map((node) => {
    const volume = nodeVolume(target, "redis", ROLE, node.index, parent);
    const secretUpload = (file: string, content: pulumi.Output<string>) => ({
      file: `${node.paths.secretDir}/${file}`,
      content: pulumi.secret(content),
      // Readable by the redis user only.
      owner: String(REDIS_UID),
      group: String(REDIS_UID),
      permissions: "0400",
    });
    return new docker.Container(
      `${name}-${node.index}`,
      {
        name: node.name,
        hostname: node.name,
        image: image.imageId,
        // The image's own non-root user from the first instruction on (no root entrypoint, no chown).
        user: `${REDIS_UID}:${REDIS_UID}`,
        // The program itself, not the image's entrypoint script: nothing of the image is relied on but its binaries.
        entrypoints: ["redis-server"],
        command: [`${node.paths.configDir}/${CONFIG_FILE}`],
        uploads: [
          { file: `${node.paths.configDir}/${CONFIG_FILE}`, content: renderRedisConf(model, node) },
          ...(secrets ? [secretUpload(AUTH_CONF_FILE, secrets.authConf), secretUpload(PASSWORD_FILE, secrets.password)] : []),
        ],
        networksAdvanced: [{ name: target.network.name, aliases: [node.name] }],
        ports: [{ internal: node.port, external: node.client.port, ip: target.bindAddress }],
        volumes: [{ volumeName: volume.name, containerPath: node.paths.dataDir }],
        healthcheck: dockerHealthcheck(node.health.readiness, { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 12, startPeriodSeconds: START_PERIOD_S }),
        // Wait for the health check: `pulumi up` only reports success (and the init task and smoke checks
        // only start) once every node answers PING with its password, not merely once the process runs.
        wait: true,
        waitTimeout: WAIT_TIMEOUT_S,
        restart: "unless-stopped",
        memory: dockerMemoryMb(bytesOf(settings.resources.memory)),
        labels: [...dockerLabels(target.stage.name, "redis"), { label: DOCKER_LABEL_REDIS_ROLE, value: node.role }],
      },
      { parent },
    );
  });
}
