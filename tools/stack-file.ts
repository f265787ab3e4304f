/**
 * Reads a stack file (`stacks/Pulumi.<stage>.yaml`) without the Pulumi CLI: its config, which values
 * are secure, and plaintext secrets (a problem wherever they appear).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parse } from "yaml";
import { StageValidationError, type StageProblem } from "../components/errors/stage-validation-error.js";
import { PROJECT, SECRET_KEYS } from "../components/stage.js";

/**
 * The stack files' directory: `stacks/` (Pulumi.yaml's `stackConfigDir`). BOTPLATFORM_STACKS_DIR
 * points the tools elsewhere, so tests that write environment files never touch the real one.
 */
export function stacksDir(): string {
  return process.env.BOTPLATFORM_STACKS_DIR ?? resolve(__dirname, "..", "stacks");
}
const STACK_FILE = /^Pulumi\.([^.]+)\.ya?ml$/;
/**
 * Setting names that hold secrets: they must be `secure:` values, never plaintext. (`*Secret` names
 * such as `smoke.imagePullSecret` name a Kubernetes Secret object and are not secrets themselves.)
 */
const SECRET_NAME = /(password|cookie|token)$|^secret$/i;

export interface StackFile {
  path: string;
  /** The stack name, from the file name. */
  stack: string;
  /** Every config key as written (`project:key` and provider keys like `kubernetes:context`). */
  config: Record<string, unknown>;
  /** This project's keys without the prefix: what `parseStage` takes. */
  stageConfig: Record<string, unknown>;
  /** Full keys whose value is `secure:`. */
  secureKeys: string[];
  /** Problems found in the file itself (plaintext secrets, YAML shape). */
  problems: StageProblem[];
}

export function isSecureValue(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string";
}

/** `ci` -> `stacks/Pulumi.ci.yaml`; anything with a `/` or ending in `.yaml` is taken as a path. */
export function stackFilePath(stageOrPath: string): string {
  if (stageOrPath.includes("/") || /\.ya?ml$/.test(stageOrPath)) return resolve(stageOrPath);
  return join(stacksDir(), `Pulumi.${stageOrPath}.yaml`);
}

export class StackFileError extends Error {
  override readonly name = "StackFileError";
}

export function readStackFile(stageOrPath: string): StackFile {
  const path = stackFilePath(stageOrPath);
  const match = STACK_FILE.exec(basename(path));
  if (!match) throw new StackFileError(`${path}: a stack file is named Pulumi.<stage>.yaml`);
  if (!existsSync(path)) throw new StackFileError(`${path}: no such stack file (stages: ${listStages().join(", ") || "none"})`);
  let document: unknown;
  try {
    document = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StackFileError(`${path}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const config = (document as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${path}: \`config\` must be a mapping of keys to values`);
  }
  const entries = Object.entries(config as Record<string, unknown>);
  const prefix = `${PROJECT}:`;
  const problems: StageProblem[] = [];
  for (const [key, value] of entries) problems.push(...plaintextSecrets(key.startsWith(prefix) ? key.slice(prefix.length) : key, value));
  return {
    path,
    stack: match[1]!,
    config: Object.fromEntries(entries),
    stageConfig: Object.fromEntries(entries.filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value])),
    secureKeys: entries.filter(([, value]) => isSecureValue(value)).map(([key]) => key),
    problems,
  };
}

/** `readStackFile`, refusing a file with problems of its own (plaintext secrets) before anything runs. */
export function readCleanStackFile(stageOrPath: string): StackFile {
  const file = readStackFile(stageOrPath);
  if (file.problems.length > 0) throw new StageValidationError(file.stack, file.problems);
  return file;
}

function plaintextSecrets(path: string, value: unknown): StageProblem[] {
  if (isSecureValue(value)) return [];
  const leaf = path.split(/[.:]/).pop() ?? path;
  if (typeof value === "string" && ((SECRET_KEYS as readonly string[]).includes(path) || SECRET_NAME.test(leaf))) {
    return [{ path, message: `is a plaintext secret; set it with \`pulumi config set --secret ${path} ...\` or leave it unset to generate one` }];
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, inner]) => plaintextSecrets(Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, inner));
  }
  return [];
}

export function listStages(): string[] {
  const dir = stacksDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((file) => STACK_FILE.exec(file)?.[1])
    .filter((stage): stage is string => stage !== undefined)
    .sort();
}
