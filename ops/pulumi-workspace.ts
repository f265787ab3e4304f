/**
 * The Automation API behind `DeployWorkspace`. LocalWorkspace reads and writes stack settings as
 * `<workDir>/Pulumi.<stack>.yaml` and ignores `stackConfigDir`, so this kit never uses its stack
 * settings API: stack files live in `stacks/` and are read by the CLI, which honours
 * `stackConfigDir: stacks` in Pulumi.yaml (see ops/env/stack-files.ts for files written by `env`).
 */
import { LocalWorkspace, type PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { resolve } from "node:path";
import type { DeployStack, DeployWorkspace, OperationResult, StackOutputs } from "./workspace.js";

export const PROJECT_DIR = resolve(__dirname, "..");

function wrap(stack: Stack): DeployStack {
  const outcome = (r: { summary: { result: string; message?: string } }): OperationResult => ({ result: r.summary.result, summary: r.summary.message });
  return {
    name: stack.name,
    preview: async (onOutput) => {
      const r = await stack.preview({ onOutput, color: "never" });
      return { result: "succeeded", summary: JSON.stringify(r.changeSummary) };
    },
    up: async (onOutput) => outcome(await stack.up({ onOutput, color: "never" })),
    destroy: async (onOutput) => outcome(await stack.destroy({ onOutput, color: "never" })),
    outputs: async () => Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value])) as StackOutputs,
    setTag: (key, value) => stack.setTag(key, value),
    tags: () => stack.listTags(),
  };
}

export async function pulumiWorkspace(pulumiCommand: PulumiCommand): Promise<DeployWorkspace> {
  const workspace = await LocalWorkspace.create({ workDir: PROJECT_DIR, pulumiCommand });
  const selectStack = (stackName: string) => LocalWorkspace.selectStack({ stackName, workDir: PROJECT_DIR }, { pulumiCommand });
  return {
    selectOrCreate: async (stackName) => wrap(await LocalWorkspace.createOrSelectStack({ stackName, workDir: PROJECT_DIR }, { pulumiCommand })),
    select: async (stackName) => {
      const known = (await workspace.listStacks()).some((s) => s.name === stackName);
      return known ? wrap(await selectStack(stackName)) : undefined;
    },
    listStacks: async () => (await workspace.listStacks()).map((s) => ({ name: s.name })),
    removeStack: (stackName) => workspace.removeStack(stackName),
  };
}
