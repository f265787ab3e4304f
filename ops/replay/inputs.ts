/**
 * The @pulumi/docker (v5) inputs the replay understands, as strict schemas: an input field it does not
 * know fails the replay, naming the resource and the field's path, instead of being skipped. Adding
 * support for a field means a schema entry here AND its translation in translate.ts.
 */
import { z } from "zod";

/** A Go duration as the provider parses it (`5s`, `1m30s`, `500ms`). */
const duration = z.string().regex(/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/, "must be a Go duration like `5s`");
const octalMode = z.string().regex(/^0?[0-7]{3,4}$/, "must be an octal mode like `0400`");
/** The provider resolves owner/group names on the deploying host; numeric ids mean the same everywhere. */
const numericId = z.string().regex(/^\d+$/, "must be a numeric id (names resolve on the deploying host, not in the image)");

export const labelInput = z.strictObject({ label: z.string(), value: z.string() });

export const networkInputs = z.strictObject({
  name: z.string().min(1),
  driver: z.string().optional(),
  labels: z.array(labelInput).optional(),
  internal: z.boolean().optional(),
  attachable: z.boolean().optional(),
  options: z.record(z.string(), z.string()).optional(),
});

export const volumeInputs = z.strictObject({
  name: z.string().min(1),
  driver: z.string().optional(),
  driverOpts: z.record(z.string(), z.string()).optional(),
  labels: z.array(labelInput).optional(),
});

export const remoteImageInputs = z.strictObject({
  name: z.string().min(1),
  keepLocally: z.boolean().optional(),
});

/** Generated secrets: their value is already in the plan (the mocks' result); nothing to replay. */
export const randomPasswordInputs = z.strictObject({
  length: z.number().int(),
  special: z.boolean().optional(),
  upper: z.boolean().optional(),
  lower: z.boolean().optional(),
  numeric: z.boolean().optional(),
  overrideSpecial: z.string().optional(),
  keepers: z.record(z.string(), z.string()).optional(),
});

const portInput = z.strictObject({
  internal: z.number().int().min(1).max(65535),
  external: z.number().int().min(1).max(65535).optional(),
  ip: z.string().optional(),
  protocol: z.enum(["tcp", "udp", "sctp"]).optional(),
});

const volumeMountInput = z.strictObject({
  containerPath: z.string().startsWith("/"),
  volumeName: z.string().min(1),
  readOnly: z.boolean().optional(),
});

const uploadInput = z
  .strictObject({
    file: z.string().startsWith("/"),
    content: z.string().optional(),
    contentBase64: z.string().optional(),
    executable: z.boolean().optional(),
    owner: numericId.optional(),
    group: numericId.optional(),
    permissions: octalMode.optional(),
  })
  .refine((u) => (u.content === undefined) !== (u.contentBase64 === undefined), "exactly one of `content` and `contentBase64` must be set");

const networkAttachmentInput = z.strictObject({
  name: z.string().min(1),
  aliases: z.array(z.string()).optional(),
});

const healthcheckInput = z.strictObject({
  tests: z.array(z.string()).min(1),
  interval: duration.optional(),
  timeout: duration.optional(),
  startPeriod: duration.optional(),
  startInterval: duration.optional(),
  retries: z.number().int().min(0).optional(),
});

export const containerInputs = z.strictObject({
  name: z.string().min(1),
  image: z.string().min(1),
  command: z.array(z.string().min(1, "values for command may not be empty")).optional(),
  entrypoints: z.array(z.string()).optional(),
  envs: z.array(z.string().includes("=", { message: "must be KEY=value" })).optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  user: z.string().optional(),
  workingDir: z.string().optional(),
  labels: z.array(labelInput).optional(),
  ports: z.array(portInput).optional(),
  volumes: z.array(volumeMountInput).optional(),
  uploads: z.array(uploadInput).optional(),
  networksAdvanced: z.array(networkAttachmentInput).optional(),
  healthcheck: healthcheckInput.optional(),
  restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).optional(),
  maxRetryCount: z.number().int().min(0).optional(),
  /** MiB, as the provider takes it. */
  memory: z.number().int().min(0).optional(),
  memorySwap: z.number().int().optional(),
  init: z.boolean().optional(),
  attach: z.boolean().optional(),
  logs: z.boolean().optional(),
  mustRun: z.boolean().optional(),
  start: z.boolean().optional(),
  wait: z.boolean().optional(),
  waitTimeout: z.number().int().min(1).optional(),
  rm: z.boolean().optional(),
  removeVolumes: z.boolean().optional(),
  stopSignal: z.string().optional(),
  stopTimeout: z.number().int().min(0).optional(),
  destroyGraceSeconds: z.number().int().min(0).optional(),
});

export type NetworkInputs = z.infer<typeof networkInputs>;
export type VolumeInputs = z.infer<typeof volumeInputs>;
export type ContainerInputs = z.infer<typeof containerInputs>;

/** Parses a resource's inputs; every problem names the resource and the field path. */
export function parseInputs<T>(schema: z.ZodType<T>, resource: string, inputs: unknown): T {
  const result = schema.safeParse(inputs);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => `input \`${path.slice(1)}${path ? "." : ""}${key}\` is not supported by the replay`);
    return [`input \`${path.slice(1)}\`: ${issue.message}`];
  });
  throw new ReplayError(`${resource}: ${problems.join("; ")}`);
}

export class ReplayError extends Error {
  override readonly name = "ReplayError";
}
