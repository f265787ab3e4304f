/** CI environment names: validated once, mapped onto a stack name that marks the stack as an environment. */
import { OpsUsageError } from "../deploy.js";

const ENV_NAME = /^[a-z][a-z0-9-]{0,28}[a-z0-9]$|^[a-z]$/;
export const ENV_STACK_PREFIX = "env-";

export function validateEnvName(name: string): string {
  if (!ENV_NAME.test(name)) {
    throw new OpsUsageError(`\`--name\` \`${name}\` must be 1-30 lowercase letters, digits and \`-\`, starting with a letter and not ending with \`-\` (it names containers, volumes and namespaces)`);
  }
  return name;
}

/** `pr-42` -> `env-pr-42`: every container, volume and namespace of the environment carries it. */
export function envStackName(name: string): string {
  return `${ENV_STACK_PREFIX}${validateEnvName(name)}`;
}

export function isEnvStack(stack: string): boolean {
  return stack.startsWith(ENV_STACK_PREFIX);
}
