/** Environment lifetimes: `--ttl 24h` becomes an `expires-at` stack tag that `env gc` reads. */
import { OpsUsageError } from "../deploy.js";

export const TAG_EXPIRES_AT = "botplatform:expires-at";
export const TAG_TEMPLATE = "botplatform:template";
export const DEFAULT_TTL = "24h";
const MAX_TTL_MS = 30 * 24 * 3600 * 1000; // 30 days
const UNIT_MS: Record<string, number> = { m: 60 * 1000, h: 3600 * 1000, d: 24 * 3600 * 1000 };

export function parseTtl(value: string): number {
  const match = /^([1-9]\d*)(m|h|d)$/.exec(value);
  if (!match) throw new OpsUsageError(`\`--ttl\` \`${value}\` must be a duration like \`90m\`, \`24h\` or \`7d\``);
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms > MAX_TTL_MS) throw new OpsUsageError(`\`--ttl\` \`${value}\` is longer than 30d`);
  return ms;
}

export function expiresAt(now: Date, ttlMs: number): string {
  return new Date(now.getTime() + ttlMs).toISOString();
}

/**
 * Whether an environment is past its TTL. An environment without a readable tag is never collected:
 * gc must not destroy what it cannot prove expired.
 */
export function isExpired(tags: Record<string, string>, now: Date): boolean {
  const value = tags[TAG_EXPIRES_AT];
  if (value === undefined) return false;
  const at = Date.parse(value);
  return Number.isFinite(at) && at <= now.getTime();
}
