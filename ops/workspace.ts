/**
 * What the deploy workflow needs from Pulumi, as an interface: the Automation API implements it
 * (pulumi-workspace.ts); tests inject their own to check ordering, exit codes and TTL logic without
 * a Pulumi CLI.
 */
export interface StackOutputs {
  /** Output name -> value, secrets already decrypted (the caller must not print them). */
  [name: string]: unknown;
}

export interface StackSummary {
  name: string;
}

export interface OperationResult {
  /** `succeeded`, `failed`, ... as Pulumi reports it. */
  result: string;
  summary?: string;
}

export interface DeployStack {
  readonly name: string;
  preview(onOutput: (line: string) => void): Promise<OperationResult>;
  up(onOutput: (line: string) => void): Promise<OperationResult>;
  destroy(onOutput: (line: string) => void): Promise<OperationResult>;
  outputs(): Promise<StackOutputs>;
  setTag(key: string, value: string): Promise<void>;
  tags(): Promise<Record<string, string>>;
}

export interface DeployWorkspace {
  /** Selects the stack, creating it when it does not exist yet. */
  selectOrCreate(stack: string): Promise<DeployStack>;
  /** Selects an existing stack; undefined when there is none. */
  select(stack: string): Promise<DeployStack | undefined>;
  listStacks(): Promise<StackSummary[]>;
  removeStack(stack: string): Promise<void>;
}
