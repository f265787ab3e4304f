/**
 * The endpoints contract, version 1 (DESIGN.md §3): the only thing provisioning and healthchecks share.
 * `parseEndpoints` validates a document once at the edge and reports every problem at once, each
 * naming its field path (`nats.servers[0]: must be a nats:// or tls:// URL`), never its value.
 *
 * Compatibility: unknown keys are accepted everywhere (a newer provisioning may add fields). Channel
 * objects keep their unknown keys; tier blocks drop them (a probe only reads what it knows).
 */
import { z } from "zod";
import { EndpointsError, type EndpointsProblem } from "./errors/endpoints-error.js";

export const ENDPOINTS_VERSION = 1;
export const TIER_NAMES = ["redis", "nats", "kafka", "rabbitmq"] as const;
export type TierName = (typeof TIER_NAMES)[number];

export function isTierName(name: string): name is TierName {
  return (TIER_NAMES as readonly string[]).includes(name);
}

/** A URL string whose scheme is one of `protocols` (e.g. `redis:`) and that names a host. */
function urlWith(protocols: readonly string[]) {
  const shown = protocols.map((p) => `${p}//`).join(" or ");
  return z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return protocols.includes(url.protocol) && url.hostname !== "";
    },
    { message: `must be a ${shown} URL` },
  );
}

// `host:port` or `[v6]:port`, as Kafka clients take bootstrap servers.
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})$/;
const hostPort = z.string().refine(
  (value) => {
    const port = Number(HOST_PORT.exec(value)?.[1] ?? 0);
    return port >= 1 && port <= 65535;
  },
  { message: "must be host:port" },
);

const clusterSize = z.number().int().min(1);
const nonEmpty = z.string().min(1);

const redisSchema = z.object({
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: urlWith(["redis:", "rediss:"]),
  /** Replicas the primary should have online. @default 0 */
  replicas: z.number().int().min(0).optional(),
});

const natsSchema = z.object({
  servers: z.array(urlWith(["nats:", "tls:"])).min(1),
  user: nonEmpty.optional(),
  password: nonEmpty.optional(),
  /** Servers the cluster should have. @default 1 */
  clusterSize: clusterSize.optional(),
  monitorUrl: urlWith(["http:", "https:"]).optional(),
  /** Every node's monitoring URL; the probe judges from whichever answer (`monitorUrl` may be the one down). */
  monitorUrls: z.array(urlWith(["http:", "https:"])).min(1).optional(),
});

const kafkaSchema = z.object({
  brokers: z.array(hostPort).min(1),
  /** Brokers the cluster should have. @default 1 */
  clusterSize: clusterSize.optional(),
  sasl: z
    .object({
      mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
      username: nonEmpty,
      password: nonEmpty,
    })
    .optional(),
});

const rabbitmqSchema = z.object({
  /** `amqp://[user:password@]host:port[/vhost]`, or `amqps://` for TLS. */
  url: urlWith(["amqp:", "amqps:"]),
  managementUrl: urlWith(["http:", "https:"]).optional(),
  /** Nodes the cluster should have. @default 1 */
  clusterSize: clusterSize.optional(),
  /** Every node's AMQP `host:port`, tried after `url` when it does not answer (same scheme, user, vhost). */
  addresses: z.array(hostPort).min(1).optional(),
  /** Every node's management URL (no credentials), tried after `managementUrl` when it does not answer. */
  managementUrls: z.array(urlWith(["http:", "https:"])).min(1).optional(),
});

const channelSchema = z.looseObject({
  /** Stream key (Redis), subject/stream (NATS), topic (Kafka), queue (RabbitMQ). */
  name: nonEmpty,
  /** Durable channels are provisioned objects a probe checks exist; others are fire-and-forget. */
  durable: z.boolean(),
  partitions: z.number().int().min(1).optional(),
  /** Consumer groups provisioning created on the channel; probes check each exists. */
  consumerGroups: z.array(nonEmpty).optional(),
  /** Owned by provisioning; probes do not read it. */
  retention: z.unknown().optional(),
});

const endpointsSchema = z
  .object({
    version: z.literal(ENDPOINTS_VERSION, { error: `must be ${ENDPOINTS_VERSION} (the version this CLI reads)` }),
    stage: nonEmpty,
    redis: redisSchema.optional(),
    nats: natsSchema.optional(),
    kafka: kafkaSchema.optional(),
    rabbitmq: rabbitmqSchema.optional(),
    channels: z.array(channelSchema).optional(),
  })
  .superRefine((doc, ctx) => {
    // Cross-field rules; they run once every field has the right shape.
    if (doc.nats && (doc.nats.user === undefined) !== (doc.nats.password === undefined)) {
      const [has, lacks] = doc.nats.user === undefined ? ["password", "user"] : ["user", "password"];
      ctx.addIssue({ code: "custom", path: ["nats", lacks], message: `is required when \`nats.${has}\` is set` });
    }
    const seen = new Set<string>();
    doc.channels?.forEach((channel, i) => {
      if (seen.has(channel.name)) {
        ctx.addIssue({ code: "custom", path: ["channels", i, "name"], message: `duplicate channel name \`${channel.name}\`` });
      }
      seen.add(channel.name);
    });
  });

export type Endpoints = z.infer<typeof endpointsSchema>;
export type RedisEndpoint = NonNullable<Endpoints["redis"]>;
export type NatsEndpoint = NonNullable<Endpoints["nats"]>;
export type KafkaEndpoint = NonNullable<Endpoints["kafka"]>;
export type RabbitmqEndpoint = NonNullable<Endpoints["rabbitmq"]>;
export type Channel = NonNullable<Endpoints["channels"]>[number];

const ARTICLE: Record<string, string> = { array: "an array", object: "an object", int: "an integer" };

/** Plain-words messages for zod's built-in issues; messages set on a schema take precedence. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${ARTICLE[issue.expected] ?? `a ${issue.expected}`}`;
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      if (issue.origin === "array") return `must have at least ${String(issue.minimum)} entr${issue.minimum === 1 ? "y" : "ies"}`;
      return `must be >= ${String(issue.minimum)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return undefined;
  }
}

/** `["nats", "servers", 0]` -> `nats.servers[0]`; the root is `endpoints`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `${out === "" ? "" : "."}${String(key)}`;
  return out === "" ? "endpoints" : out;
}

/** Validates an endpoints document (already JSON-parsed). Throws `EndpointsError` listing every problem. */
export function parseEndpoints(json: unknown): Endpoints {
  const result = endpointsSchema.safeParse(json, { error: describeIssue });
  if (result.success) return result.data;
  const problems: EndpointsProblem[] = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  throw new EndpointsError(problems, { cause: result.error });
}

/** The tiers that have a block in `endpoints`, in canonical order. */
export function presentTiers(endpoints: Endpoints): TierName[] {
  return TIER_NAMES.filter((tier) => endpoints[tier] !== undefined);
}
