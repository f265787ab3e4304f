/**
 * RabbitmqTier: the RabbitMQ tier as one ComponentResource. It computes the model for the stage's
 * target, renders the secret files (Erlang cookie, definitions with the user's password hash), hands
 * both to the Docker or Kubernetes rendering and fills the `rabbitmq` block of the endpoints contract.
 * Channel topology needs no init task: every node imports it from the definitions at boot.
 */
import * as pulumi from "@pulumi/pulumi";
import { stageSecret } from "../secrets.js";
import type { Stage } from "../stage.js";
import { statefulNames } from "../targets/kubernetes.js";
import { TIER_FACTORIES, type TierArgs, type TierComponent } from "../tiers.js";
import { renderDefinitionsFor } from "./config.js";
import { rabbitmqDockerAddressing, rabbitmqOnDocker, type RabbitmqSecretFiles } from "./docker.js";
import { rabbitmqEndpointBlock, type RabbitmqEntry } from "./endpoint.js";
import { COMPONENT, rabbitmqKubernetesAddressing, rabbitmqKubernetesEntry, rabbitmqOnKubernetes } from "./kubernetes.js";
import { AUTH_OFF_PASSWORD, rabbitmqModel, type RabbitmqModel } from "./model.js";
import type { RabbitmqSettings } from "./settings.js";

export class RabbitmqTier extends pulumi.ComponentResource implements TierComponent {
  readonly endpoint: pulumi.Output<object>;
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: TierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("botplatform:rabbitmq:RabbitmqTier", name, {}, opts);
    const { stage, target } = args;
    const settings = rabbitmqSettingsOf(stage);
    const password = settings.auth.enabled ? stageSecret(stage.name, "rabbitmqPassword", this) : pulumi.output(AUTH_OFF_PASSWORD);
    const base = { stack: stage.name, settings, channels: stage.channels };

    let model: RabbitmqModel;
    let entry: RabbitmqEntry | undefined;
    if (target.kind === "docker") {
      model = rabbitmqModel({ ...base, addressing: rabbitmqDockerAddressing(target, settings), discovery: { kind: "classic" } });
      this.ready = rabbitmqOnDocker(name, model, settings, target, secretFiles(stage, model, password, this), this);
    } else {
      const discovery = { kind: "kubernetes" as const, headlessService: statefulNames(COMPONENT).headlessService };
      model = rabbitmqModel({ ...base, addressing: rabbitmqKubernetesAddressing(target.namespace), discovery });
      entry = rabbitmqKubernetesEntry(target.namespace);
      this.ready = [rabbitmqOnKubernetes(model, settings, target, secretFiles(stage, model, password, this), this).statefulSet];
    }
    this.endpoint = rabbitmqEndpoint(model, password, settings, entry);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

function rabbitmqSettingsOf(stage: Stage): RabbitmqSettings {
  if (stage.rabbitmq === undefined) throw new Error(`stage ${stage.name} has no \`rabbitmq\` settings but builds the rabbitmq tier`);
  return stage.rabbitmq;
}

/** Both files are secrets: the cookie lets anyone who has it control every node; the definitions hold a password hash. */
function secretFiles(stage: Stage, model: RabbitmqModel, password: pulumi.Output<string>, parent: pulumi.Resource): RabbitmqSecretFiles {
  const cookie = pulumi.secret(stageSecret(stage.name, "rabbitmqErlangCookie", parent));
  return { cookie, definitions: pulumi.secret(password.apply((pw) => renderDefinitionsFor(model, pw))) };
}

/** The endpoints contract's `rabbitmq` block; a secret when its URL carries a real password. */
function rabbitmqEndpoint(model: RabbitmqModel, password: pulumi.Output<string>, settings: RabbitmqSettings, entry: RabbitmqEntry | undefined): pulumi.Output<object> {
  const block = password.apply((pw) => rabbitmqEndpointBlock(model, pw, entry));
  return settings.auth.enabled ? pulumi.secret(block) : block;
}

TIER_FACTORIES.rabbitmq = (name, args, opts) => new RabbitmqTier(name, args, opts);
