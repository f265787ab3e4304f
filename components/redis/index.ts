/**
 * RedisTier: the Redis Streams + Pub/Sub tier as one ComponentResource. It computes the model for the
 * stage's target, hands it to the Docker or Kubernetes rendering, provisions the durable channels
 * with a one-shot init task, and fills the `redis` block of the endpoints contract.
 */
import * as pulumi from "@pulumi/pulumi";
import { stageSecret } from "../secrets.js";
import type { Stage } from "../stage.js";
import { INIT_TASK_FILES_DIR, initTask } from "../targets/task.js";
import { TIER_FACTORIES, type Target, type TierArgs, type TierComponent } from "../tiers.js";
import { redisUrl, renderAuthConf } from "./config.js";
import { redisDockerAddressing, redisOnDocker, type RedisSecretFiles } from "./docker.js";
import { redisKubernetesAddressing, redisOnKubernetes } from "./kubernetes.js";
import { PASSWORD_FILE, PRIMARY, REDIS_UID, redisModel, type RedisModel } from "./model.js";
import type { RedisSettings } from "./settings.js";
import { renderInitScript, streamInitSteps } from "./streams.js";

export const INIT_SCRIPT_FILE = "init.sh";

export class RedisTier extends pulumi.ComponentResource implements TierComponent {
  readonly endpoint: pulumi.Output<object>;
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: TierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("botplatform:redis:RedisTier", name, {}, opts);
    const { stage, target } = args;
    const settings = redisSettingsOf(stage);
    const password = settings.auth.enabled ? stageSecret(stage.name, "redisPassword", this) : undefined;
    const secrets: RedisSecretFiles | undefined = password && { authConf: pulumi.secret(password.apply(renderAuthConf)), password };

    let model: RedisModel;
    let nodes: pulumi.Resource[];
    if (target.kind === "docker") {
      model = redisModel({ settings, addressing: redisDockerAddressing(target, settings), channels: stage.channels });
      nodes = redisOnDocker(name, model, settings, target, secrets, this);
    } else {
      model = redisModel({ settings, addressing: redisKubernetesAddressing(target.namespace), channels: stage.channels });
      nodes = [redisOnKubernetes(model, settings, target, secrets, this).statefulSet];
    }
    // The smoke checks verify the channels' streams and groups: they must wait for the init task too.
    this.ready = model.streams.length > 0 ? [...nodes, channelsTask(model, target, password, nodes, this)] : nodes;
    this.endpoint = redisEndpoint(model, password);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

function channelsTask(model: RedisModel, target: Target, password: pulumi.Output<string> | undefined, nodes: pulumi.Resource[], parent: pulumi.Resource): pulumi.Resource {
  const command = ["sh", `${INIT_TASK_FILES_DIR}/${INIT_SCRIPT_FILE}`];
  return initTask({ target, tier: "redis", role: "redis-channels", image: model.image, command, files: initFiles(model, password), runAsUser: REDIS_UID, dependsOn: nodes }, parent);
}

function redisSettingsOf(stage: Stage): RedisSettings {
  if (stage.redis === undefined) throw new Error(`stage ${stage.name} has no \`redis\` settings but builds the redis tier`);
  return stage.redis;
}

/** The init script (plain: it holds no secret) and the password file it reads. */
function initFiles(model: RedisModel, password: pulumi.Output<string> | undefined): Record<string, pulumi.Input<string>> {
  const passwordFile = password && `${INIT_TASK_FILES_DIR}/${PASSWORD_FILE}`;
  const script = renderInitScript({ primary: model.nodes[PRIMARY]!.peer, passwordFile, steps: streamInitSteps(model.streams) });
  return { [INIT_SCRIPT_FILE]: script, ...(password ? { [PASSWORD_FILE]: password } : {}) };
}

/** The endpoints contract's `redis` block; the URL is a secret as soon as it carries a password. */
function redisEndpoint(model: RedisModel, password: pulumi.Output<string> | undefined): pulumi.Output<object> {
  const url = password ? pulumi.secret(password.apply((pw) => redisUrl(model.primaryClient, pw))) : pulumi.output(redisUrl(model.primaryClient));
  return pulumi.output({ url, replicas: model.replicas });
}

TIER_FACTORIES.redis = (name, args, opts) => new RedisTier(name, args, opts);
