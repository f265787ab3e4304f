/**
 * `node --import tsx test/harness/plan-manifests.ts <stage|stack file>`: the Kubernetes objects the real
 * program plans for a stage (tools/plan/capture.ts under Pulumi's mocks), printed as JSON
 * `[{ type, resource, object }]`.
 *
 * Unlike `npm run plan -- --format json`, a secret-wrapped map (a Secret's whole `stringData`) keeps its
 * keys and only its values become `[secret]`: the API server must see the keys that volumes and env vars
 * reference, and a `data` value must still be base64. No secret value is ever printed.
 */
import { StageValidationError } from "../../components/errors/stage-validation-error.js";
import { capturePlan, maskSecrets, PlanError, SECRET_MARK } from "../../tools/plan/capture.js";
import { readCleanStackFile, StackFileError } from "../../tools/stack-file.js";

/** base64 of `[secret]`: what a redacted `data` / `binaryData` value becomes. */
export const SECRET_MARK_BASE64 = Buffer.from(SECRET_MARK).toString("base64");
const BASE64_FIELDS = new Set(["data", "binaryData"]);

/** A Pulumi secret on the wire is `{ <sig>: <secret sig>, value }`; the shared masker recognises it. */
function isSecretWrapper(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && maskSecrets(value) === SECRET_MARK;
}

function redactLeaves(value: unknown, mark: string): unknown {
  if (Array.isArray(value)) return value.map((v) => redactLeaves(v, mark));
  if (isSecretWrapper(value)) return redactLeaves(value.value, mark);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLeaves(v, mark)]));
  return value === undefined || value === null ? value : mark;
}

/** Secrets keep their shape; every secret leaf is `[secret]` (base64 of it under `data`). */
export function redactKeepingShape(value: unknown, key?: string): unknown {
  if (isSecretWrapper(value)) return redactLeaves(value.value, key !== undefined && BASE64_FIELDS.has(key) ? SECRET_MARK_BASE64 : SECRET_MARK);
  if (Array.isArray(value)) return value.map((v) => redactKeepingShape(v));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactKeepingShape(v, k)]));
  return value;
}

async function main(): Promise<number> {
  const stage = process.argv[2];
  if (!stage) {
    process.stderr.write("usage: plan-manifests.ts <stage|stack file>\n");
    return 2;
  }
  try {
    const stack = readCleanStackFile(stage);
    const planned = (await capturePlan(stack))
      .filter((r) => r.type.startsWith("kubernetes:"))
      .map((r) => ({ type: r.type, resource: r.name, object: redactKeepingShape(r.inputs) }));
    process.stdout.write(JSON.stringify(planned, null, 2) + "\n");
    return 0;
  } catch (error) {
    if (error instanceof StackFileError || error instanceof StageValidationError || error instanceof PlanError) {
      process.stderr.write(`plan: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

// Run as a script only (the redaction is also imported by tests).
if (typeof require !== "undefined" && require.main === module) main().then((code) => process.exit(code));
