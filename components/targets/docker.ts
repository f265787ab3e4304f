/**
 * What every tier shares on Docker: one bridge network per stage, container and volume naming that
 * carries the stack name (two environments live side by side on one engine), and labels that say who
 * owns a resource.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { Stage, TierName } from "../stage.js";

/** Label keys every Docker resource of the kit carries; `env gc` and the e2e teardown select by them. */
export const DOCKER_LABEL_STAGE = "io.botplatform.stage";
export const DOCKER_LABEL_TIER = "io.botplatform.tier";
export const DOCKER_LABEL_MANAGED_BY = "io.botplatform.managed-by";

export interface DockerTarget {
  kind: "docker";
  /** `bp-<stack>`: the prefix of every container, volume and network name. */
  prefix: string;
  network: docker.Network;
  /** The network name, known before the network exists (containers reference it). */
  networkName: string;
  /** Host address published ports bind to; also the address clients on the host dial. */
  bindAddress: string;
  stage: Stage;
}

export function createDockerTarget(stage: Stage, parent: pulumi.Resource): DockerTarget {
  const prefix = `bp-${stage.name}`;
  const network = new docker.Network(
    `${prefix}-net`,
    { name: `${prefix}-net`, driver: "bridge", labels: dockerLabels(stage.name) },
    { parent },
  );
  return { kind: "docker", prefix, network, networkName: `${prefix}-net`, bindAddress: stage.docker.bindAddress, stage };
}

export function dockerLabels(stage: string, tier?: TierName): { label: string; value: string }[] {
  const labels = [
    { label: DOCKER_LABEL_MANAGED_BY, value: "botplatform-brokers" },
    { label: DOCKER_LABEL_STAGE, value: stage },
  ];
  return tier ? [...labels, { label: DOCKER_LABEL_TIER, value: tier }] : labels;
}

/** `bp-<stack>-<role>-<i>`, e.g. `bp-ci-nats-1`; also the container's hostname and network alias. */
export function containerName(target: DockerTarget, role: string, node: number): string {
  return `${target.prefix}-${role}-${node}`;
}

/** A named data volume for one node; `retainOnDelete` is off: throw-away stages leave nothing behind. */
export function nodeVolume(target: DockerTarget, tier: TierName, role: string, node: number, parent: pulumi.Resource): docker.Volume {
  const name = `${containerName(target, role, node)}-data`;
  return new docker.Volume(name, { name, labels: dockerLabels(target.stage.name, tier) }, { parent });
}

/** A pinned image pulled once per stage and kept on the host after destroy (other stages may share it). */
export function remoteImage(target: DockerTarget, role: string, image: string, parent: pulumi.Resource): docker.RemoteImage {
  return new docker.RemoteImage(`${target.prefix}-${role}-image`, { name: image, keepLocally: true }, { parent });
}

/** Memory in bytes for `--memory`; Docker takes MiB granularity from the stage's `512Mi`-style size. */
export function dockerMemoryMb(bytes: number): number {
  return Math.ceil(bytes / (1024 * 1024));
}
