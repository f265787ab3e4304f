/**
 * The smoke CLI as a function: `main(argv, io)` resolves to the exit code and never throws, never
 * prints a stack trace, and never prints a secret (every outgoing text is scrubbed of the endpoints'
 * secrets). `healthchecks/cli.ts` is the thin process wrapper.
 */
import { appendFile, mkdir, open, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { presentTiers, type Endpoints, type TierName } from "../endpoints.js";
import { EndpointsError } from "../errors/endpoints-error.js";
import { UsageError } from "../errors/usage-error.js";
import { scrub, secretsOf } from "../redact.js";
import { ConsoleReporter } from "../report/console.js";
import { renderJson } from "../report/json.js";
import { renderJunit } from "../report/junit.js";
import { renderMarkdown } from "../report/markdown.js";
import { runSmoke, type RunOptions, type RunResult } from "../runner.js";
import { errorMessage } from "../steps.js";
import { endpointsFromText, execProgram, readEndpointsText, type Exec } from "./load-endpoints.js";
import { PROGRAM, parseCliOptions, type CliOptions } from "./options.js";

export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (live redraw and colour). */
  isTTY: boolean;
  /** Terminal width when `isTTY`. */
  columns?: number;
  readStdin: () => Promise<string>;
  /** Aborts the run (SIGINT/SIGTERM); tiers end as `fail: aborted`. */
  signal?: AbortSignal;
  /** Runs pulumi for `--stack`. @default execProgram */
  exec?: Exec;
  /** Test seam: extra runner options (probes, clock). */
  runOptions?: Partial<RunOptions>;
}

/** Set and not "false"/"0": the usual reading of CI-style flags. */
function flag(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

function selectTiers(options: CliOptions, endpoints: Endpoints): TierName[] {
  const present = presentTiers(endpoints);
  if (options.tiers === undefined) {
    if (present.length === 0) throw new UsageError("the endpoints list no tier (expected at least one of redis, nats, kafka, rabbitmq)");
    return present;
  }
  const absent = options.tiers.filter((tier) => !present.includes(tier));
  if (absent.length > 0) {
    throw new UsageError(`\`--tiers\` asks for ${absent.map((t) => `\`${t}\``).join(", ")}, but the endpoints have no such block`);
  }
  return options.tiers;
}

/**
 * Creates each report's directory and checks the file can be opened for writing, before anything is
 * probed: an unwritable path is bad usage (exit 2), found in a second rather than after the deadline.
 */
async function checkReportPaths(files: readonly (string | undefined)[]): Promise<void> {
  for (const file of files) {
    if (file === undefined) continue;
    try {
      await mkdir(dirname(file), { recursive: true });
      await (await open(file, "a")).close();
    } catch (err) {
      throw new UsageError(`cannot write report \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
}

async function writeReports(options: CliOptions, result: RunResult, clean: (text: string) => string): Promise<void> {
  if (options.json !== undefined) await writeFile(options.json, clean(renderJson(result)));
  if (options.junit !== undefined) await writeFile(options.junit, clean(renderJunit(result)));
  // Appended: GitHub's step summary file collects every step's summary.
  if (options.summary !== undefined) await appendFile(options.summary, clean(renderMarkdown(result)));
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let secrets: string[] = [];
  const clean = (text: string): string => scrub(text, secrets);
  const out = (text: string): void => io.stdout(clean(text));
  const fail = (message: string): void => io.stderr(`${PROGRAM}: ${clean(message)}\n`);
  try {
    const options = parseCliOptions(argv, out, io.env);
    if (options === "help") return EXIT_PASS;
    const { text, origin } = await readEndpointsText(options, io.readStdin, io.exec ?? execProgram);
    let endpoints: Endpoints;
    try {
      endpoints = endpointsFromText(text, origin);
    } catch (err) {
      if (err instanceof EndpointsError) throw new UsageError(`invalid endpoints from ${origin}: ${err.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
      throw err;
    }
    secrets = secretsOf(endpoints);
    const tiers = selectTiers(options, endpoints);
    await checkReportPaths([options.json, options.junit, options.summary]);

    const colorOff = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "";
    const reporter = new ConsoleReporter({
      write: out,
      live: io.isTTY && !flag(io.env.CI),
      color: io.isTTY && !colorOff,
      quiet: options.quiet,
      ...(io.columns !== undefined && { columns: io.columns }),
    });
    const result = await runSmoke({
      endpoints,
      tiers,
      deadlineMs: options.deadlineMs,
      strict: options.strict,
      signal: io.signal,
      onTierStart: reporter.onTierStart,
      onNotReady: reporter.onNotReady,
      onStep: reporter.onStep,
      onTierDone: reporter.onTierDone,
      ...io.runOptions,
    });
    reporter.finish(result);
    await writeReports(options, result, clean);
    return result.verdict === "fail" ? EXIT_FAIL : EXIT_PASS;
  } catch (err) {
    if (err instanceof UsageError || err instanceof EndpointsError) {
      fail(err.message);
      return EXIT_USAGE;
    }
    fail(`internal error: ${errorMessage(err)}`);
    return EXIT_FAIL;
  }
}
