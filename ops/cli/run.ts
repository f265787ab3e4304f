/**
 * Shared shell of the ops CLIs: commander parsing with usage errors as exit 2, the real Pulumi
 * workspace built lazily (only once the input is valid), and no stack trace for any failure.
 */
import { Command, CommanderError } from "commander";
import { EXIT_FAILED, EXIT_USAGE, firstLine, OpsUsageError, type OpsIo } from "../deploy.js";
import { defaultLocator, pulumiCommand } from "../pulumi-cli.js";
import { pulumiWorkspace } from "../pulumi-workspace.js";
import type { DeployWorkspace } from "../workspace.js";

export const processIo: OpsIo = {
  log: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export async function realWorkspace(io: OpsIo): Promise<DeployWorkspace> {
  return pulumiWorkspace(await pulumiCommand(defaultLocator, io.log));
}

/** A program whose usage errors (also in subcommands, which inherit this) become exit 2, not exit 1. */
export function opsProgram(name: string): Command {
  return new Command(name).exitOverride().configureOutput({ outputError: (text, write) => write(text) });
}

/** Parses argv, runs the chosen action, and exits with its code. */
export async function runCli(program: Command, argv: string[], io: OpsIo = processIo): Promise<never> {
  let code: number;
  try {
    await program.parseAsync(argv);
    code = (program as Command & { exitCodeFromAction?: number }).exitCodeFromAction ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : EXIT_USAGE;
    else if (error instanceof OpsUsageError) {
      io.error(`${program.name()}: ${error.message}`);
      code = EXIT_USAGE;
    } else {
      io.error(`${program.name()}: ${firstLine(error)}`);
      code = EXIT_FAILED;
    }
  }
  process.exit(code);
}

/** Records an action's exit code on the program (commander actions cannot return one). */
export function setExitCode(program: Command, code: number): void {
  (program as Command & { exitCodeFromAction?: number }).exitCodeFromAction = code;
}
