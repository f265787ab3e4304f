/** Schema pieces every tier's settings share: sizes, storage, resources, auth, image, host ports. */
import { z } from "zod";

/** A Kubernetes memory/storage quantity, e.g. `512Mi`, `10Gi`. */
export const byteQuantity = z
  .string()
  .regex(/^[1-9]\d*(Ki|Mi|Gi|Ti)?$/, "must be a byte quantity like `512Mi` or `10Gi`");

/** A Kubernetes CPU quantity, e.g. `250m`, `1`, `1.5`. */
export const cpuQuantity = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, "must be a CPU quantity like `250m` or `2`");

/** A duration such as `30s`, `15m`, `12h`, `7d`. */
export const duration = z.string().regex(/^[1-9]\d*(s|m|h|d)$/, "must be a duration like `30s`, `15m`, `12h` or `7d`");

export const hostPort = z.number().int().min(1024, "must be 1024 or above (unprivileged)").max(65535);

export const storageSettings = z.strictObject({
  /** @default "1Gi" */
  size: byteQuantity.default("1Gi"),
});

export const resourceSettings = z.strictObject({
  /** CPU request. @default "250m" */
  cpu: cpuQuantity.default("250m"),
  /** Memory request and limit (equal, so the broker is never OOM-killed for bursting). @default "512Mi" */
  memory: byteQuantity.default("512Mi"),
});

export const authSettings = z.strictObject({
  /** Only local, dev and ci stages may turn auth off. @default true */
  enabled: z.boolean().default(true),
});

/** Container image override; the tier's default image tag follows its `version`. */
export const imageSetting = z.string().min(1).optional();

export type StorageSettings = z.infer<typeof storageSettings>;
export type ResourceSettings = z.infer<typeof resourceSettings>;

const UNITS: Record<string, number> = { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** `512Mi` -> 536870912. The quantity is already validated by `byteQuantity`. */
export function bytesOf(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`not a byte quantity: ${quantity}`);
  return Number(match[1]) * (UNITS[match[2] ?? ""] ?? 1);
}

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `7d` -> 604800. The duration is already validated by `duration`. */
export function secondsOf(value: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * (SECONDS[match[2] ?? "s"] ?? 1);
}
