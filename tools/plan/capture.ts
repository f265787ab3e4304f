/**
 * Runs the real program (`index.ts`) under Pulumi's mocks with a stack file's config and captures
 * every resource it registers: type, name, parent and inputs, with secret inputs kept marked. One
 * capture per process: Pulumi's runtime state is process-global.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import { PROJECT } from "../../components/stage.js";
import type { StackFile } from "../stack-file.js";
import { isSecureValue } from "../stack-file.js";

export interface PlannedResource {
  type: string;
  name: string;
  /** The parent resource's name; absent for resources directly under the stack. */
  parent?: string;
  /** Inputs as the provider would receive them; secret values are `{ [secret]: value }` (see `SECRET_MARK`). */
  inputs: Record<string, unknown>;
  /** Names of the resources this one waits for (explicit `dependsOn` and inputs taken from their outputs). */
  dependsOn?: string[];
}

/** A captured stage: its resources and the program's stack outputs (secret outputs kept marked). */
export interface CapturedStack {
  resources: PlannedResource[];
  outputs: Record<string, unknown>;
}

/** Placeholder values the plan gives to secrets, so tests can prove none leaks into a plain input. */
export const PLAN_SECRET_PREFIX = "plan-secret-";
export const PLAN_GENERATED_PREFIX = "plan-generated-";

// Pulumi's wire markers for a secret value (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** How a secret input appears in a captured plan. */
export const SECRET_MARK = "[secret]";

export class PlanError extends Error {
  override readonly name = "PlanError";
}

const DEFAULT_PROGRAM = resolve(__dirname, "..", "..", "index.ts");

export async function capturePlan(stack: StackFile, programPath = DEFAULT_PROGRAM): Promise<PlannedResource[]> {
  return (await captureStack(stack, programPath)).resources;
}

/** Like `capturePlan`, and also resolves the program's exports as `pulumi stack output` would show them. */
export async function captureStack(stack: StackFile, programPath = DEFAULT_PROGRAM): Promise<CapturedStack> {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack.config)) {
    if (isSecureValue(value)) config[key] = `${PLAN_SECRET_PREFIX}${key}`;
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(config, stack.secureKeys);

  const captured = new Map<string, PlannedResource>();
  const parents = new Map<string, string>();
  const dependencies = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        // RandomPassword's output is what the program uses as a generated secret.
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = `${PLAN_GENERATED_PREFIX}${args.name}`;
        // A pulled image's id: its name, so a container that runs `image.imageId` shows which image it runs.
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = args.inputs.name;
        captured.set(`${args.type}::${args.name}`, { type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state };
      },
      call: () => ({}),
    },
    PROJECT,
    stack.stack,
    false,
  );
  recordParents(parents, dependencies);

  let programError: unknown;
  let outputs: Record<string, unknown> = {};
  const onRejection = (reason: unknown) => (programError ??= reason);
  process.on("unhandledRejection", onRejection);
  try {
    outputs = await resolveExports(require(programPath) as Record<string, unknown>);
    await pulumi.runtime.disconnect();
  } catch (error) {
    programError ??= error;
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (programError !== undefined) {
    throw new PlanError(programError instanceof Error ? programError.message : String(programError));
  }

  const resources = [...captured.values()]
    .map((resource) => {
      const key = `${resource.type}::${resource.name}`;
      const dependsOn = dependencies.get(key);
      return { ...resource, parent: parents.get(key), ...(dependsOn && dependsOn.length > 0 ? { dependsOn } : {}) };
    })
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  return { resources, outputs };
}

/** The program's exports as plain values; a secret output is kept as a secret-marked value. */
async function resolveExports(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(exports).map(async ([key, value]): Promise<[string, unknown]> => {
      if (!pulumi.Output.isInstance(value)) return [key, value];
      const [plain, secret] = await Promise.all([new Promise<unknown>((done) => value.apply((v) => done(v))), pulumi.isSecret(value)]);
      return [key, secret ? { [SIG_KEY]: SECRET_SIG, value: plain } : plain];
    }),
  );
  return Object.fromEntries(entries);
}

/** The mock monitor does not tell `newResource` the parent or the dependencies; the register request does. */
function recordParents(parents: Map<string, string>, dependencies: Map<string, string[]>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: { getType(): string; getName(): string; getParent(): string; getDependenciesList(): string[] }, cb: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const key = `${req.getType()}::${req.getName()}`;
    const parentName = req.getParent().split("::").pop();
    if (parentName) parents.set(key, parentName);
    const names = req.getDependenciesList().map((urn) => urn.split("::").pop() ?? urn);
    dependencies.set(key, [...new Set(names)].sort());
    return register(req, cb);
  };
}

/** Replaces every secret-marked value with the value it marks (`--show-secrets`). */
export function revealSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return revealSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v)]));
  }
  return value;
}

/** Replaces every secret-marked value with `[secret]` (for printing). */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === "object" && value !== null) {
    if ((value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) return SECRET_MARK;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
  }
  return value;
}
