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

export async function capturePlan(stack: StackFile, programPath = resolve(__dirname, "..", "..", "index.ts")): Promise<PlannedResource[]> {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack.config)) {
    if (isSecureValue(value)) config[key] = `${PLAN_SECRET_PREFIX}${key}`;
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(config, stack.secureKeys);

  const captured = new Map<string, PlannedResource>();
  const parents = new Map<string, string>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        // RandomPassword's output is what the program uses as a generated secret.
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = `${PLAN_GENERATED_PREFIX}${args.name}`;
        captured.set(`${args.type}::${args.name}`, { type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state };
      },
      call: () => ({}),
    },
    PROJECT,
    stack.stack,
    false,
  );
  recordParents(parents);

  let programError: unknown;
  const onRejection = (reason: unknown) => (programError ??= reason);
  process.on("unhandledRejection", onRejection);
  try {
    require(programPath);
    await pulumi.runtime.disconnect();
  } catch (error) {
    programError ??= error;
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (programError !== undefined) {
    throw new PlanError(programError instanceof Error ? programError.message : String(programError));
  }

  return [...captured.values()]
    .map((resource) => ({ ...resource, parent: parents.get(`${resource.type}::${resource.name}`) }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/** The mock monitor does not tell `newResource` the parent; the register request does. */
function recordParents(parents: Map<string, string>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: { getType(): string; getName(): string; getParent(): string }, cb: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const parentName = req.getParent().split("::").pop();
    if (parentName) parents.set(`${req.getType()}::${req.getName()}`, parentName);
    return register(req, cb);
  };
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
