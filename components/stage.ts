/**
 * The stage schema: everything a stack file in `stacks/` can say, its defaults, and its validation.
 * `parseStage` reports every problem at once, each with its config path, before any resource exists.
 */
import { z } from "zod";
import { BOTPLATFORM_CHANNELS, channelProblems, channelSchema, type Channel } from "./channels.js";
import { StageValidationError, type StageProblem } from "./errors/stage-validation-error.js";
import { kafkaSettings, type KafkaSettings } from "./kafka/settings.js";
import { natsSettings, natsSettingsProblems, type NatsSettings } from "./nats/settings.js";
import { natsChannelProblems } from "./nats/streams.js";
import { rabbitmqProblems, rabbitmqSettings, type RabbitmqSettings } from "./rabbitmq/settings.js";
import { redisProblems, redisSettings, type RedisSettings } from "./redis/settings.js";
import { hostPortProblems } from "./stage-host-ports.js";

/** The Pulumi project name: config keys are `botplatform-brokers:<key>`. */
export const PROJECT = "botplatform-brokers";

/** In the order of BotPlatform's growth path: Redis Streams -> NATS JetStream -> Kafka; RabbitMQ beside. */
export const TIERS = ["redis", "nats", "kafka", "rabbitmq"] as const;
export type TierName = (typeof TIERS)[number];

export const ENVIRONMENTS = ["local", "dev", "ci", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
/** Stages whose data may be lost and whose brokers may run without auth. */
const THROWAWAY_ENVIRONMENTS: ReadonlySet<Environment> = new Set(["local", "dev", "ci"]);

/** Secret config keys, read with `config.getSecret`; when unset the platform generates the value. */
export const SECRET_KEYS = ["redisPassword", "natsPassword", "kafkaPassword", "rabbitmqPassword", "rabbitmqErlangCookie"] as const;

/** Container names, volume names and namespaces derive from the stack name. */
const STACK_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const dockerSettings = z.strictObject({
  /** Host address the published ports bind to. @default "127.0.0.1" */
  bindAddress: z.ipv4("must be an IPv4 address such as `127.0.0.1`").default("127.0.0.1"),
});

const kubernetesSettings = z.strictObject({
  /** @default "botplatform-<stack>" */
  namespace: z.string().regex(DNS_LABEL, "must be a DNS label (lowercase letters, digits, `-`)").optional(),
  /** Type of the client Services. @default "ClusterIP" */
  serviceType: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).default("ClusterIP"),
  /** StorageClass of every PersistentVolumeClaim; the cluster default when unset. */
  storageClass: z.string().regex(DNS_LABEL, "must be a StorageClass name").optional(),
});

const smokeSettings = z.strictObject({
  /** Run the smoke checks after every deploy. @default true */
  enabled: z.boolean().default(true),
  /** How long a fresh deploy may take to become ready and pass. @default 180 */
  deadlineSeconds: z.number().int().min(5).max(3600).default(180),
  /** Treat `degraded` as a failure. @default false */
  strict: z.boolean().default(false),
  /** Kubernetes: image of the in-cluster smoke Job, built from this repository's Dockerfile. */
  image: z.string().min(1).optional(),
  /** Kubernetes: name of an image pull Secret in the stage namespace for `image`. */
  imagePullSecret: z.string().regex(DNS_LABEL, "must be a Secret name").optional(),
});

const stageSchema = z.strictObject({
  /** What the stage is for; local, dev and ci are throw-away. */
  environment: z.enum(ENVIRONMENTS),
  target: z.enum(["docker", "kubernetes"]),
  /** The broker tiers to run; none is a valid stage (the in-memory start of the path). @default [] */
  tiers: z.array(z.enum(TIERS)).default([]),
  docker: dockerSettings.optional(),
  kubernetes: kubernetesSettings.optional(),
  redis: redisSettings.optional(),
  nats: natsSettings.optional(),
  kafka: kafkaSettings.optional(),
  rabbitmq: rabbitmqSettings.optional(),
  /** @default BotPlatform's core channels (components/channels.ts) */
  channels: z.array(channelSchema).optional(),
  smoke: smokeSettings.prefault({}),
});

export type DockerSettings = z.infer<typeof dockerSettings>;
export type KubernetesSettings = Omit<z.infer<typeof kubernetesSettings>, "namespace"> & { namespace: string };
export type SmokeSettings = z.infer<typeof smokeSettings>;

/** A validated stage with every default applied; a tier's settings exist exactly when it is enabled. */
export interface Stage {
  /** The stack name, e.g. `ci` or `ci-pr-42`. */
  name: string;
  environment: Environment;
  throwaway: boolean;
  target: "docker" | "kubernetes";
  tiers: TierName[];
  docker: DockerSettings;
  kubernetes: KubernetesSettings;
  redis?: RedisSettings;
  nats?: NatsSettings;
  kafka?: KafkaSettings;
  rabbitmq?: RabbitmqSettings;
  channels: Channel[];
  smoke: SmokeSettings;
}

/**
 * Validates raw stage config (keys without the project prefix, values already decoded from YAML/JSON)
 * and applies defaults. Throws `StageValidationError` listing every problem.
 */
export function parseStage(stackName: string, raw: Record<string, unknown>): Stage {
  const problems: StageProblem[] = [];
  if (!STACK_NAME.test(stackName)) {
    problems.push({ path: "stack", message: `\`${stackName}\` must start with a letter and hold only lowercase letters, digits and \`-\` (40 at most)` });
  }
  // Each section is parsed on its own so that one broken section does not hide the others' problems.
  const parsed: Record<string, unknown> = {};
  const failed = new Set<string>();
  for (const key of Object.keys(raw)) {
    if (!(key in stageSchema.shape) && !(SECRET_KEYS as readonly string[]).includes(key)) {
      problems.push({ path: key, message: "is not a known setting" });
    }
  }
  for (const [key, schema] of Object.entries(stageSchema.shape)) {
    const result = (schema as z.ZodType).safeParse(raw[key]);
    if (result.success) {
      parsed[key] = result.data;
    } else {
      failed.add(key);
      problems.push(...result.error.issues.flatMap((issue) => issueToProblems({ ...issue, path: [key, ...issue.path] })));
    }
  }
  if (failed.has("environment") || failed.has("target") || failed.has("tiers")) throw new StageValidationError(stackName, problems);
  const valid = parsed as ParsedStage;
  const stage = resolve(stackName, valid);
  // Cross-field checks see only sections that parsed; a broken tier section was reported above.
  for (const tier of TIERS) if (failed.has(tier)) delete stage[tier];
  problems.push(...crossFieldProblems(valid, stage));
  if (problems.length > 0) throw new StageValidationError(stackName, problems);
  return stage;
}

type ParsedStage = z.infer<typeof stageSchema>;

function resolve(name: string, parsed: ParsedStage): Stage {
  const enabled = (tier: TierName) => parsed.tiers.includes(tier);
  return {
    name,
    environment: parsed.environment,
    throwaway: THROWAWAY_ENVIRONMENTS.has(parsed.environment),
    target: parsed.target,
    tiers: TIERS.filter(enabled),
    docker: parsed.docker ?? dockerSettings.parse({}),
    kubernetes: { ...kubernetesSettings.parse(parsed.kubernetes ?? {}), namespace: parsed.kubernetes?.namespace ?? `botplatform-${name}` },
    redis: enabled("redis") ? (parsed.redis ?? redisSettings.parse({})) : undefined,
    nats: enabled("nats") ? (parsed.nats ?? natsSettings.parse({})) : undefined,
    kafka: enabled("kafka") ? (parsed.kafka ?? kafkaSettings.parse({})) : undefined,
    rabbitmq: enabled("rabbitmq") ? (parsed.rabbitmq ?? rabbitmqSettings.parse({})) : undefined,
    channels: parsed.channels ?? BOTPLATFORM_CHANNELS.map((c) => channelSchema.parse(c)),
    smoke: parsed.smoke,
  };
}

function crossFieldProblems(parsed: ParsedStage, stage: Stage): StageProblem[] {
  const problems: StageProblem[] = [];
  parsed.tiers.forEach((tier, i) => {
    if (parsed.tiers.indexOf(tier) !== i) problems.push({ path: `tiers[${i}]`, message: `\`${tier}\` is listed twice` });
  });
  for (const tier of TIERS) {
    if (parsed[tier] !== undefined && !parsed.tiers.includes(tier)) {
      problems.push({ path: tier, message: `settings are given but \`${tier}\` is not in \`tiers\`` });
    }
    const settings = stage[tier];
    if (settings && !settings.auth.enabled && !stage.throwaway) {
      problems.push({ path: `${tier}.auth.enabled`, message: `auth may only be off on local, dev and ci stages, not on ${stage.environment}` });
    }
  }
  if (parsed.target === "kubernetes" && parsed.docker) problems.push({ path: "docker", message: "is given but `target` is kubernetes" });
  if (parsed.target === "docker" && parsed.kubernetes) problems.push({ path: "kubernetes", message: "is given but `target` is docker" });
  if (stage.target === "kubernetes" && stage.smoke.enabled && stage.tiers.length > 0 && !stage.smoke.image) {
    problems.push({ path: "smoke.image", message: "is required on Kubernetes while smoke.enabled is true: the smoke runs in the cluster as a Job (or set smoke.enabled: false)" });
  }
  if (stage.kafka) problems.push(...kafkaProblems(stage.kafka));
  if (stage.nats) problems.push(...natsSettingsProblems(stage.nats), ...natsChannelProblems(stage.channels));
  if (stage.redis) problems.push(...redisProblems(stage.redis, stage.throwaway));
  if (stage.rabbitmq) problems.push(...rabbitmqProblems(stage.channels));
  if (stage.target === "docker") problems.push(...hostPortProblems(stage));
  problems.push(...channelProblems(stage.channels));
  return problems;
}

function kafkaProblems(kafka: KafkaSettings): StageProblem[] {
  const problems: StageProblem[] = [];
  if (kafka.replicationFactor !== undefined && kafka.replicationFactor > kafka.brokers) {
    problems.push({ path: "kafka.replicationFactor", message: `${kafka.replicationFactor} is larger than kafka.brokers (${kafka.brokers})` });
  }
  const replicationFactor = kafka.replicationFactor ?? Math.min(3, kafka.brokers);
  if (kafka.minInsyncReplicas !== undefined && kafka.minInsyncReplicas > replicationFactor) {
    problems.push({ path: "kafka.minInsyncReplicas", message: `${kafka.minInsyncReplicas} is larger than the replication factor (${replicationFactor}): no acks=all write could succeed` });
  }
  if (kafka.controllers === 0 && kafka.brokers % 2 === 0) {
    problems.push({ path: "kafka.brokers", message: `${kafka.brokers} combined broker+controller nodes make an even controller quorum; use an odd count or kafka.controllers: 3` });
  }
  if (kafka.controllers === 0 && kafka.brokers > 5) {
    problems.push({ path: "kafka.controllers", message: `a ${kafka.brokers}-broker cluster needs dedicated controllers (set kafka.controllers: 3)` });
  }
  return problems;
}

/** A zod issue as config-path problems; an unknown-keys issue becomes one problem per key. */
function issueToProblems(issue: z.core.$ZodIssue): StageProblem[] {
  const base = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: base ? `${base}.${key}` : key, message: "is not a known setting" }));
  }
  return [{ path: base || "(stage)", message: issue.message }];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}
