/**
 * `npm run validate -- --stage <name>` or `-- <stack file>`: checks a stage's config without the Pulumi
 * CLI. Exit 0 when valid; exit 2 listing every problem with its path.
 */
import { Command } from "commander";
import { StageValidationError, type StageProblem } from "../components/errors/stage-validation-error.js";
import { parseStage } from "../components/stage.js";
import { listStages, readStackFile, StackFileError } from "./stack-file.js";

function validate(stageOrPath: string): StageProblem[] {
  const stack = readStackFile(stageOrPath);
  try {
    parseStage(stack.stack, stack.stageConfig);
    return stack.problems;
  } catch (error) {
    if (error instanceof StageValidationError) return [...stack.problems, ...error.problems];
    throw error;
  }
}

function main(): number {
  const program = new Command("validate")
    .description("Validate stage configs: every problem with its config path. Exit 0 valid, 2 invalid or bad usage.")
    .argument("[stack-files...]", "paths to stack files")
    .option("--stage <name>", "a stage in stacks/ (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
    .option("--all", "every stage in stacks/")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  try {
    program.parse();
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const options = program.opts<{ stage: string[]; all?: boolean }>();
  const targets = [...program.args, ...options.stage, ...(options.all ? listStages() : [])];
  if (targets.length === 0) {
    process.stderr.write("validate: name a stage with --stage <name>, a stack file path, or --all\n");
    return 2;
  }
  let invalid = 0;
  for (const target of targets) {
    try {
      const problems = validate(target);
      if (problems.length === 0) {
        process.stdout.write(`ok      ${target}\n`);
        continue;
      }
      invalid++;
      process.stdout.write(`invalid ${target}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
      for (const p of problems) process.stdout.write(`  - ${p.path}: ${p.message}\n`);
    } catch (error) {
      if (!(error instanceof StackFileError)) throw error;
      invalid++;
      process.stdout.write(`invalid ${error.message}\n`);
    }
  }
  return invalid === 0 ? 0 : 2;
}

process.exit(main());
