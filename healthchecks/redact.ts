/**
 * Secrets never leave the process: URLs are shown with `***` for the password, password fields are
 * replaced, and every outgoing text (console, reports, error lines) is scrubbed of the known secret
 * strings as a last line of defence (a library error might quote a URL we did not build).
 */
import type { Endpoints } from "./endpoints.js";

export const MASK = "***";

// `scheme://user:password@` (or `scheme://:password@`) for text that is not a parseable URL.
const USERINFO = /(\/\/[^\s/:@]*):[^\s/@]*@/g;

/** The URL with its password (if any) replaced by `***`; the user name stays (it helps debugging). */
export function redact(url: string): string {
  if (URL.canParse(url)) {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = MASK;
    return parsed.toString();
  }
  return url.replace(USERINFO, `$1:${MASK}@`);
}

/** A copy of `endpoints` that is safe to print. */
export function redactEndpoints(endpoints: Endpoints): Endpoints {
  const { redis, nats, kafka, rabbitmq } = endpoints;
  return {
    ...endpoints,
    ...(redis && { redis: { ...redis, url: redact(redis.url) } }),
    ...(nats && {
      nats: {
        ...nats,
        servers: nats.servers.map(redact),
        ...(nats.password !== undefined && { password: MASK }),
        ...(nats.monitorUrl !== undefined && { monitorUrl: redact(nats.monitorUrl) }),
        ...(nats.monitorUrls !== undefined && { monitorUrls: nats.monitorUrls.map(redact) }),
      },
    }),
    ...(kafka && { kafka: { ...kafka, ...(kafka.sasl && { sasl: { ...kafka.sasl, password: MASK } }) } }),
    ...(rabbitmq && {
      rabbitmq: {
        ...rabbitmq,
        url: redact(rabbitmq.url),
        ...(rabbitmq.managementUrl !== undefined && { managementUrl: redact(rabbitmq.managementUrl) }),
      },
    }),
  };
}

function urlPassword(url: string): string[] {
  if (!URL.canParse(url)) return [];
  const password = new URL(url).password;
  if (password === "") return [];
  // Both spellings: a library may print the URL as given or decoded.
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password]; // a stray `%` that is not an escape
  }
}

/** Every secret string in `endpoints` (URL passwords, raw and decoded; password fields). */
export function secretsOf(endpoints: Endpoints): string[] {
  const { redis, nats, kafka, rabbitmq } = endpoints;
  const secrets = [
    ...(redis ? urlPassword(redis.url) : []),
    ...(nats?.servers.flatMap(urlPassword) ?? []),
    ...(nats?.monitorUrl !== undefined ? urlPassword(nats.monitorUrl) : []),
    ...(nats?.monitorUrls?.flatMap(urlPassword) ?? []),
    ...(nats?.password !== undefined ? [nats.password] : []),
    ...(kafka?.sasl ? [kafka.sasl.password] : []),
    ...(rabbitmq ? urlPassword(rabbitmq.url) : []),
    ...(rabbitmq?.managementUrl !== undefined ? urlPassword(rabbitmq.managementUrl) : []),
  ];
  return [...new Set(secrets.filter((s) => s !== ""))];
}

/**
 * Replaces every occurrence of each secret in `text` with `***`, and masks URL passwords it finds.
 * Longest secrets first, so a secret that contains another is masked whole.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.replace(USERINFO, `$1:${MASK}@`);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
  return out;
}
