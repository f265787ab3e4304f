/**
 * NatsTier: the NATS JetStream tier as one ComponentResource. It computes the model for the stage's
 * target, hands it to the Docker or Kubernetes rendering, provisions the durable channels' streams and
 * consumers with a one-shot init task, and fills the `nats` block of the endpoints contract.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stageSecret } from "../secrets.js";
import type { Stage } from "../stage.js";
import { INIT_TASK_FILES_DIR, initTask } from "../targets/task.js";
import { TIER_FACTORIES, type Target, type TierArgs, type TierComponent } from "../tiers.js";
import type { NatsSecrets } from "./config.js";
import { natsEndpointBlock, type NatsEndpoint } from "./endpoint.js";
import { NATS_DOCKER_LAYOUT, natsDockerAddressing, natsOnDocker } from "./docker.js";
import { INIT_PASSWORD_FILE, natsInitTask } from "./init-script.js";
import { NATS_KUBERNETES_LAYOUT, natsKubernetesAddressing, natsOnKubernetes } from "./kubernetes.js";
import { NATS_UID, natsModel, type NatsModel } from "./model.js";
import type { NatsSettings } from "./settings.js";

/** 32 alphanumerics (~190 bits), like the stage secrets: nothing to escape in a URL or nats.conf. */
const ROUTE_PASSWORD_LENGTH = 32;

export class NatsTier extends pulumi.ComponentResource implements TierComponent {
  readonly endpoint: pulumi.Output<NatsEndpoint>;
  readonly ready: pulumi.Resource[];
  readonly model: NatsModel;

  constructor(name: string, args: TierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("botplatform:nats:NatsTier", name, {}, opts);
    const { stage, target } = args;
    const settings = natsSettingsOf(stage);
    const secrets = settings.auth.enabled ? natsSecrets(name, stage.name, settings.nodes > 1, this) : undefined;

    let nodes: pulumi.Resource[];
    if (target.kind === "docker") {
      this.model = natsModel({ stack: stage.name, settings, addressing: natsDockerAddressing(target, settings), channels: stage.channels, layout: NATS_DOCKER_LAYOUT });
      nodes = natsOnDocker(name, this.model, settings, target, secrets, this);
    } else {
      this.model = natsModel({ stack: stage.name, settings, addressing: natsKubernetesAddressing(target.namespace), channels: stage.channels, layout: NATS_KUBERNETES_LAYOUT });
      nodes = [natsOnKubernetes(this.model, settings, target, secrets, this).statefulSet];
    }
    // The smoke checks verify the channels' streams and consumers: they must wait for the init task too.
    this.ready = this.model.streams.length > 0 ? [...nodes, channelsTask(this.model, settings, target, secrets, nodes, this)] : nodes;
    this.endpoint = natsEndpoint(this.model, secrets);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

function natsSettingsOf(stage: Stage): NatsSettings {
  if (stage.nats === undefined) throw new Error(`stage ${stage.name} has no \`nats\` settings but builds the nats tier`);
  return stage.nats;
}

/** The `bus` password (stack config `natsPassword` or generated) and a generated route password. */
function natsSecrets(name: string, stack: string, clustered: boolean, parent: pulumi.Resource): pulumi.Output<NatsSecrets> {
  const busPassword = stageSecret(stack, "natsPassword", parent);
  // A single node has no routes, so no route password.
  const routePassword = clustered ? new random.RandomPassword(`${name}-route-password`, { length: ROUTE_PASSWORD_LENGTH, special: false }, { parent }).result : pulumi.output("");
  return pulumi.secret(pulumi.all([busPassword, routePassword]).apply(([bus, route]): NatsSecrets => ({ busPassword: bus, routePassword: route })));
}

function channelsTask(model: NatsModel, settings: NatsSettings, target: Target, secrets: pulumi.Output<NatsSecrets> | undefined, nodes: pulumi.Resource[], parent: pulumi.Resource): pulumi.Resource {
  const task = natsInitTask(model);
  const files: Record<string, pulumi.Input<string>> = { ...task.files };
  if (task.needsPassword && secrets) files[INIT_PASSWORD_FILE] = pulumi.secret(secrets.apply((s) => s.busPassword));
  return initTask({ target, tier: "nats", role: "nats-channels", image: settings.toolsImage, command: task.command(INIT_TASK_FILES_DIR), files, runAsUser: NATS_UID, dependsOn: nodes }, parent);
}

/** The endpoints block; a secret as a whole when it carries the password. */
function natsEndpoint(model: NatsModel, secrets: pulumi.Output<NatsSecrets> | undefined): pulumi.Output<NatsEndpoint> {
  const block = natsEndpointBlock(model);
  if (!secrets) return pulumi.output(block);
  return pulumi.secret(secrets.apply((s): NatsEndpoint => ({ ...block, password: s.busPassword })));
}

TIER_FACTORIES.nats = (name, args, opts) => new NatsTier(name, args, opts);
