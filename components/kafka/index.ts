/**
 * The Kafka (KRaft) tier: the model computed from the stage and the target's addressing, rendered as
 * Docker containers or Kubernetes StatefulSets, then the channels' topics created by an init task.
 * Contributes `{ brokers, clusterSize, sasl? }` to the endpoints contract (secret with SASL on).
 */
import * as pulumi from "@pulumi/pulumi";
import { stageSecret } from "../secrets.js";
import { TIER_FACTORIES, type TierArgs, type TierComponent } from "../tiers.js";
import { renderCredentialsFile } from "./config.js";
import { kafkaDockerAddressing, kafkaDockerNodes } from "./docker.js";
import { kafkaKubernetesAddressing, kafkaKubernetesPools } from "./kubernetes.js";
import { KAFKA_SASL_USER, kafkaModel, type KafkaModel } from "./model.js";
import { kafkaTopicsTask } from "./topics-task.js";

export interface KafkaEndpoint {
  brokers: string[];
  clusterSize: number;
  sasl?: { mechanism: "scram-sha-512"; username: string; password: string };
}

export class KafkaTier extends pulumi.ComponentResource implements TierComponent {
  readonly endpoint: pulumi.Output<KafkaEndpoint>;
  readonly ready: pulumi.Resource[];
  readonly model: KafkaModel;

  constructor(name: string, args: TierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("botplatform:kafka:KafkaTier", name, {}, opts);
    const { stage, target } = args;
    const settings = stage.kafka;
    if (settings === undefined) throw new Error("KafkaTier needs a stage with `kafka` settings");

    const addressing = target.kind === "docker" ? kafkaDockerAddressing(target, settings.hostPort) : kafkaKubernetesAddressing(target);
    this.model = kafkaModel({ stage, addressing });
    const password = settings.auth.enabled ? stageSecret(stage.name, "kafkaPassword", this) : undefined;
    // The secret file the brokers read; rendering validates the password (a clear error, no value shown).
    const credentials = password ? pulumi.secret(password.apply(renderCredentialsFile)) : undefined;

    const nodes: pulumi.Resource[] =
      target.kind === "docker"
        ? kafkaDockerNodes({ target, model: this.model, memory: settings.resources.memory, credentials }, this)
        : kafkaKubernetesPools({ target, model: this.model, settings, credentials }, this).map((pool) => pool.statefulSet);
    const topics = kafkaTopicsTask(target, this.model, password, nodes, this);

    this.ready = [...nodes, topics];
    this.endpoint = kafkaEndpoint(this.model, password);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

/** The endpoints block: a secret as a whole when it carries the password. */
export function kafkaEndpoint(model: KafkaModel, password: pulumi.Output<string> | undefined): pulumi.Output<KafkaEndpoint> {
  const brokers = model.bootstrap.map((b) => `${b.host}:${b.port}`);
  if (password === undefined) return pulumi.output({ brokers, clusterSize: model.brokerCount });
  return pulumi.secret(
    password.apply((p): KafkaEndpoint => ({ brokers, clusterSize: model.brokerCount, sasl: { mechanism: "scram-sha-512", username: KAFKA_SASL_USER, password: p } })),
  );
}

TIER_FACTORIES.kafka = (name, args, opts) => new KafkaTier(name, args, opts);
