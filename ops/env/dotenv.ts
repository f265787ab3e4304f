/**
 * The endpoints as environment variables for an app's test job (`REDIS_URL`, `NATS_URL`,
 * `KAFKA_BROKERS`, `AMQP_URL`, ...). Values are single-quoted so any password survives `source`.
 */
type Block = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const list = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

export function endpointsToEnv(endpoints: Record<string, unknown>): Record<string, string> {
  const vars: Record<string, string | undefined> = { BOTPLATFORM_STAGE: str(endpoints.stage) };
  const redis = endpoints.redis as Block | undefined;
  if (redis) vars.REDIS_URL = str(redis.url);
  const nats = endpoints.nats as Block | undefined;
  if (nats) {
    vars.NATS_URL = list(nats.servers).join(",");
    vars.NATS_USER = str(nats.user);
    vars.NATS_PASSWORD = str(nats.password);
  }
  const kafka = endpoints.kafka as Block | undefined;
  if (kafka) {
    vars.KAFKA_BROKERS = list(kafka.brokers).join(",");
    const sasl = kafka.sasl as Block | undefined;
    vars.KAFKA_SASL_MECHANISM = str(sasl?.mechanism);
    vars.KAFKA_SASL_USERNAME = str(sasl?.username);
    vars.KAFKA_SASL_PASSWORD = str(sasl?.password);
  }
  const rabbitmq = endpoints.rabbitmq as Block | undefined;
  if (rabbitmq) {
    vars.AMQP_URL = str(rabbitmq.url);
    vars.RABBITMQ_MANAGEMENT_URL = str(rabbitmq.managementUrl);
  }
  return Object.fromEntries(Object.entries(vars).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

export function renderDotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => `${key}='${value.replaceAll("'", "'\\''")}'`)
    .join("\n") + "\n";
}
