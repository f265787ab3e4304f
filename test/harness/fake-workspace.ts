/** An in-memory `DeployWorkspace` that records every call, for the ops orchestration tests. */
import type { DeployStack, DeployWorkspace, OperationResult, StackOutputs } from "../../ops/workspace.js";

export interface FakeStackBehaviour {
  previewFails?: boolean;
  up?: OperationResult | Error;
  destroy?: OperationResult | Error;
  outputs?: StackOutputs;
}

export class FakeWorkspace implements DeployWorkspace {
  readonly calls: string[] = [];
  readonly stacks = new Map<string, { tags: Record<string, string> }>();
  behaviour: Record<string, FakeStackBehaviour> = {};
  /** Behaviour of stacks without an entry in `behaviour`. */
  defaultBehaviour: FakeStackBehaviour = {};

  private handle(name: string): DeployStack {
    const entry = this.stacks.get(name)!;
    const b = () => this.behaviour[name] ?? this.defaultBehaviour;
    const outcome = async (op: string, value: OperationResult | Error | undefined, onOutput: (line: string) => void) => {
      this.calls.push(`${op} ${name}`);
      onOutput(`${op} output of ${name}`);
      if (value instanceof Error) throw value;
      return value ?? { result: "succeeded" };
    };
    return {
      name,
      preview: async (onOutput) => {
        this.calls.push(`preview ${name}`);
        onOutput(`preview output of ${name}`);
        if (b().previewFails) throw new Error(`code: 255\n stderr: error: preview of ${name} failed: boom`);
        return { result: "succeeded" };
      },
      up: (onOutput) => outcome("up", b().up, onOutput),
      destroy: (onOutput) => outcome("destroy", b().destroy, onOutput),
      outputs: async () => {
        this.calls.push(`outputs ${name}`);
        return b().outputs ?? {};
      },
      setTag: async (key, value) => {
        this.calls.push(`tag ${name} ${key}`);
        entry.tags[key] = value;
      },
      tags: async () => ({ ...entry.tags }),
    };
  }

  async selectOrCreate(name: string): Promise<DeployStack> {
    if (!this.stacks.has(name)) {
      this.calls.push(`create ${name}`);
      this.stacks.set(name, { tags: {} });
    }
    this.calls.push(`select ${name}`);
    return this.handle(name);
  }

  async select(name: string): Promise<DeployStack | undefined> {
    return this.stacks.has(name) ? this.handle(name) : undefined;
  }

  async listStacks() {
    return [...this.stacks.keys()].map((name) => ({ name }));
  }

  async removeStack(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    this.stacks.delete(name);
  }
}
