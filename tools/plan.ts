/**
 * `npm run plan -- --stage <name> [--format tree|json|yaml]`: what a stage would create, computed by the
 * real program under Pulumi's mocks. No credentials, no engine, no provider plugins.
 */
import { Command, InvalidArgumentError } from "commander";
import { StageValidationError } from "../components/errors/stage-validation-error.js";
import { captureStack, PlanError } from "./plan/capture.js";
import { PLAN_FORMATS, renderOutputs, renderPlan, type PlanFormat } from "./plan/render.js";
import { readCleanStackFile, StackFileError } from "./stack-file.js";

function parseFormat(value: string): PlanFormat {
  if (!(PLAN_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${PLAN_FORMATS.join(", ")}`);
  return value as PlanFormat;
}

async function main(): Promise<number> {
  const program = new Command("plan")
    .description("Print what a stage would create, from the real program under Pulumi's mocks (secrets shown as [secret]).")
    .requiredOption("--stage <name|path>", "stage name (stacks/Pulumi.<name>.yaml) or path to a stack file")
    .option("--format <format>", `output format: ${PLAN_FORMATS.join(", ")}`, parseFormat, "tree")
    .option("--outputs", "print the stack outputs (JSON, like `pulumi stack output --json`) instead of the resources")
    .option("--show-secrets", "print secret values (the mocks' placeholders or generated values) instead of [secret]")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  try {
    program.parse();
  } catch (error) {
    return (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const options = program.opts<{ stage: string; format: PlanFormat; outputs?: boolean; showSecrets?: boolean }>();
  try {
    const stack = readCleanStackFile(options.stage);
    const { resources, outputs } = await captureStack(stack);
    const showSecrets = options.showSecrets === true;
    process.stdout.write(options.outputs === true ? renderOutputs(outputs, showSecrets) : renderPlan(resources, options.format, showSecrets));
    return 0;
  } catch (error) {
    if (error instanceof StackFileError || error instanceof StageValidationError || error instanceof PlanError) {
      process.stderr.write(`plan: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main().then((code) => process.exit(code));
