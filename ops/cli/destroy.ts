/** `npm run destroy -- --stage <name>`: destroy every resource of a stage. */
import { destroyStage, loadStage } from "../deploy.js";
import { opsProgram, processIo, realWorkspace, runCli, setExitCode } from "./run.js";

const program = opsProgram("destroy")
  .description("Destroy a stage's resources (the stack and its stack file stay).\nExit codes: 0 destroyed (or nothing to destroy); 1 destroy failed; 2 bad usage or unknown stage.")
  .requiredOption("--stage <name>", "stage (stack) name")
  .action(async (options: { stage: string }) => {
    loadStage(options.stage);
    setExitCode(program, await destroyStage(options.stage, await realWorkspace(processIo), processIo));
  });

void runCli(program, process.argv);
