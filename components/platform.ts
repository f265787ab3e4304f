/**
 * BrokerPlatform: picks the target, builds the stage's tiers on it and composes the `endpoints`
 * contract (version 1) that the smoke checks read.
 */
import * as pulumi from "@pulumi/pulumi";
import { smokeJob } from "./smoke-job.js";
import type { Stage } from "./stage.js";
import { createDockerTarget } from "./targets/docker.js";
import { createKubernetesTarget } from "./targets/kubernetes.js";
import { TIER_FACTORIES, type Target, type TierComponent } from "./tiers.js";

export const ENDPOINTS_VERSION = 1;
/** Part of the smoke Job's fingerprint: a kit upgrade re-renders configs, so it re-runs the smoke. */
const KIT_VERSION: string = require("../package.json").version;

export interface BrokerPlatformArgs {
  stage: Stage;
}

export class BrokerPlatform extends pulumi.ComponentResource {
  readonly endpoints: pulumi.Output<object>;
  readonly tiers: Readonly<Partial<Record<string, TierComponent>>>;

  constructor(name: string, args: BrokerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("botplatform:index:BrokerPlatform", name, {}, opts);
    const { stage } = args;
    const target: Target = stage.target === "docker" ? createDockerTarget(stage, this) : createKubernetesTarget(stage, this);
    this.tiers = buildTiers(name, stage, target, this);
    this.endpoints = composeEndpoints(stage, this.tiers);
    if (target.kind === "kubernetes" && stage.smoke.enabled && stage.smoke.image && stage.tiers.length > 0) {
      const ready = Object.values(this.tiers).flatMap((tier) => tier!.ready);
      smokeJob({ stage, target, endpoints: this.endpoints, dependsOn: ready, image: stage.smoke.image, kitVersion: KIT_VERSION }, this);
    }
    this.registerOutputs({ endpoints: this.endpoints });
  }
}

function buildTiers(name: string, stage: Stage, target: Target, parent: pulumi.Resource): Partial<Record<string, TierComponent>> {
  const missing = stage.tiers.filter((tier) => TIER_FACTORIES[tier] === undefined);
  if (missing.length > 0) throw new Error(`tiers without an implementation: ${missing.join(", ")}`);
  return Object.fromEntries(stage.tiers.map((tier) => [tier, TIER_FACTORIES[tier]!(`${name}-${tier}`, { stage, target }, { parent })]));
}

function composeEndpoints(stage: Stage, tiers: Partial<Record<string, TierComponent>>): pulumi.Output<object> {
  const blocks = Object.fromEntries(Object.entries(tiers).map(([tier, component]) => [tier, component!.endpoint]));
  return pulumi.output({
    version: ENDPOINTS_VERSION,
    stage: stage.name,
    ...blocks,
    channels: stage.channels.map((c) => ({
      name: c.name,
      durable: c.durable,
      partitions: c.partitions,
      consumerGroups: c.consumerGroups,
      retention: c.retention,
    })),
  });
}
