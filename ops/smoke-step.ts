/**
 * The smoke step of a deploy: runs the smoke CLI in-process on the stack's endpoints (handed over on
 * stdin, so the secrets never touch the disk) and writes the JSON, JUnit and summary reports.
 */
import { join } from "node:path";
import { main as smokeMain } from "../healthchecks/cli/main.js";

export interface SmokeStepOptions {
  endpoints: unknown;
  reportsDir: string;
  deadlineSeconds: number;
  strict: boolean;
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Resolves to the smoke CLI's exit code (0 pass, 1 a probe failed, 2 bad endpoints). */
export type SmokeStep = (options: SmokeStepOptions) => Promise<number>;

export function smokeReportPaths(reportsDir: string) {
  return { json: join(reportsDir, "smoke.json"), junit: join(reportsDir, "smoke.junit.xml"), summary: join(reportsDir, "smoke.md") };
}

export const runSmokeStep: SmokeStep = (options) => {
  const reports = smokeReportPaths(options.reportsDir);
  const argv = [
    "--endpoints", "-",
    "--deadline", String(options.deadlineSeconds),
    "--json", reports.json,
    "--junit", reports.junit,
    // The step summary goes to GitHub when there is one, else next to the other reports.
    "--summary", options.env.GITHUB_STEP_SUMMARY ?? reports.summary,
    ...(options.strict ? ["--strict"] : []),
  ];
  return smokeMain(argv, {
    stdout: options.stdout,
    stderr: options.stderr,
    env: options.env,
    isTTY: false,
    readStdin: async () => JSON.stringify(options.endpoints),
  });
};
