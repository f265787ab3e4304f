/**
 * A plan with its secrets still in place, marked: tests can look inside a secret-marked input (e.g. a
 * Docker `uploads` list, which the mocks mark secret as a whole as soon as one file in it is) and still
 * prove that every secret value sits under a secret mark. Runs tools/plan/capture.ts in a child process
 * (Pulumi's runtime is process-global): `node --import tsx test/harness/plan-raw.ts <stack file>`.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc.js";
import { capturePlan, type PlannedResource } from "../../tools/plan/capture.js";
import { readStackFile } from "../../tools/stack-file.js";

const run = promisify(execFile);

/** The plan of a stack file, secrets as `{ [specialSigKey]: specialSecretSig, value }`. */
export async function planRaw(stackFile: string): Promise<PlannedResource[]> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", __filename, stackFile], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as PlannedResource[];
}

export function isSecretMarked(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** The value with every secret mark removed (to read what is inside). */
export function reveal<T = unknown>(value: unknown): T {
  if (isSecretMarked(value)) return reveal((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map((v) => reveal(v)) as T;
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)])) as T;
  return value as T;
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: plan-raw.ts <stack file>");
  capturePlan(readStackFile(file)).then(
    (plan) => {
      process.stdout.write(JSON.stringify(plan));
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
