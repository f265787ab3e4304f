/** `npm run up -- --stage <name>`: preview, update, then smoke-check the stage. */
import { deployStage, loadStage } from "../deploy.js";
import { runSmokeStep } from "../smoke-step.js";
import { opsProgram, processIo, realWorkspace, runCli, setExitCode } from "./run.js";

const program = opsProgram("up")
  .description("Deploy a stage (stacks/Pulumi.<stage>.yaml): preview, update with live output, then smoke-check its endpoints and write reports.\nExit codes: 0 deployed and smoke passed; 1 preview, update or smoke failed; 2 bad usage or invalid stage.")
  .requiredOption("--stage <name>", "stage (stack) name, e.g. local, dev, ci")
  .option("--reports <dir>", "where smoke.json, smoke.junit.xml and smoke.md go (default: reports/<stage>)")
  .option("--skip-smoke", "deploy without the smoke step")
  .action(async (options: { stage: string; reports?: string; skipSmoke?: boolean }) => {
    loadStage(options.stage); // invalid input fails before any Pulumi work
    const workspace = await realWorkspace(processIo);
    setExitCode(program, await deployStage({ stack: options.stage, reportsDir: options.reports, skipSmoke: options.skipSmoke }, workspace, runSmokeStep, processIo));
  });

void runCli(program, process.argv);
