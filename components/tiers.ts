/**
 * The tier registry: one factory per broker tier. Each builds its ComponentResource under the platform
 * and returns the block it contributes to the endpoints contract.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Stage, TierName } from "./stage.js";
import type { DockerTarget } from "./targets/docker.js";
import type { KubernetesTarget } from "./targets/kubernetes.js";

export type Target = DockerTarget | KubernetesTarget;

export interface TierArgs {
  stage: Stage;
  target: Target;
}

export interface TierComponent extends pulumi.Resource {
  /** This tier's block of the endpoints contract (secret where it carries a password). */
  readonly endpoint: pulumi.Output<object>;
  /** Resources a post-deploy step must wait for: the tier is up when these are. */
  readonly ready: pulumi.Resource[];
}

export type TierFactory = (name: string, args: TierArgs, opts: pulumi.ComponentResourceOptions) => TierComponent;

/** Filled by the tier modules; a tier missing here cannot be planned (the platform says which). */
export const TIER_FACTORIES: Partial<Record<TierName, TierFactory>> = {};
