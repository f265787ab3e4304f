/**
 * The smoke CLI's flags (commander), normalised once into `CliOptions`. Every bad flag becomes a
 * `UsageError` naming the flag; commander never exits the process itself.
 */
import { Command, CommanderError, Option } from "commander";
import { TIER_NAMES, isTierName, type TierName } from "../endpoints.js";
import { UsageError } from "../errors/usage-error.js";
import { DEFAULT_DEADLINE_MS } from "../runner.js";

export const PROGRAM = "botplatform-smoke";

export interface CliOptions {
  /** A file path, `-` for stdin; exactly one of `endpoints` and `stack` is set. */
  endpoints?: string;
  stack?: string;
  /** Undefined: every tier present in the endpoints. */
  tiers?: TierName[];
  deadlineMs: number;
  strict: boolean;
  json?: string;
  junit?: string;
  summary?: string;
  quiet: boolean;
}

const HELP_FOOTER = `
Exit codes:
  0  every tier passed (degraded passes unless --strict)
  1  a probe failed (or, with --strict, a tier was degraded)
  2  bad usage or bad endpoints (nothing was probed)

Environment:
  GITHUB_STEP_SUMMARY  default for --summary (appended to, as GitHub expects)
  CI                   when set, progress is printed as plain lines even on a TTY
  NO_COLOR             when set (non-empty), no colour

Secrets (passwords in URLs and password fields) are printed as *** everywhere.

Examples:
  ${PROGRAM} --endpoints endpoints.json --junit reports/smoke.xml
  pulumi stack output endpoints --json --show-secrets | ${PROGRAM} --endpoints - --tiers redis
  ${PROGRAM} --stack ci --deadline 120 --strict --json reports/smoke.json`;

function buildProgram(out: (text: string) => void): Command {
  return new Command(PROGRAM)
    .description("Smoke-checks event-bus brokers with real publish/consume round trips, per the endpoints contract (version 1).")
    .option("--endpoints <file>", "endpoints JSON document; `-` reads stdin")
    .option("--stack <name>", "read endpoints from `pulumi stack output endpoints --json --show-secrets --stack <name>`")
    .option("--tiers <list>", `comma-separated tiers to check (${TIER_NAMES.join(", ")}); default: every tier in the endpoints`)
    .addOption(new Option("--deadline <seconds>", "give up after this many seconds (retrying tiers that are not ready yet)").default(String(DEFAULT_DEADLINE_MS / 1000)))
    .option("--strict", "count degraded (e.g. a missing replica) as a failure", false)
    .option("--json <file>", "write the full report as JSON")
    .option("--junit <file>", "write a JUnit XML report (one testsuite per tier, one testcase per step)")
    .option("--summary <file>", "append a Markdown summary (GitHub step summary); default: $GITHUB_STEP_SUMMARY")
    .option("--quiet", "no progress; print only tiers that did not pass", false)
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", HELP_FOOTER)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: out,
      writeErr: () => {}, // errors come back as CommanderError and are printed once by the CLI
      outputError: () => {},
    });
}

function parseDeadline(value: string): number {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`\`--deadline\` must be a positive number of seconds, got \`${value}\``);
  }
  return seconds * 1000;
}

function parseTiers(value: string): TierName[] {
  const names = [...new Set(value.split(",").map((name) => name.trim()).filter((name) => name !== ""))];
  if (names.length === 0) throw new UsageError("`--tiers` lists no tier");
  const unknown = names.filter((name) => !isTierName(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown tier${unknown.length === 1 ? "" : "s"} ${unknown.map((n) => `\`${n}\``).join(", ")} in \`--tiers\` (known: ${TIER_NAMES.join(", ")})`);
  }
  return names as TierName[];
}

interface RawOptions {
  endpoints?: string;
  stack?: string;
  tiers?: string;
  deadline: string;
  strict: boolean;
  json?: string;
  junit?: string;
  summary?: string;
  quiet: boolean;
}

/**
 * Parses `argv` (without node and script). Returns `"help"` once help was written to `out`; throws
 * `UsageError` with a one-line reason.
 */
export function parseCliOptions(argv: readonly string[], out: (text: string) => void, env: Readonly<Record<string, string | undefined>>): CliOptions | "help" {
  const program = buildProgram(out);
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") return "help";
      throw new UsageError(`${err.message.replace(/^error: /, "")} (see --help)`);
    }
    throw err;
  }
  const raw = program.opts<RawOptions>();
  if (raw.endpoints !== undefined && raw.stack !== undefined) throw new UsageError("pass either `--endpoints` or `--stack`, not both");
  if (raw.endpoints === undefined && raw.stack === undefined) throw new UsageError("pass `--endpoints <file>` (or `-` for stdin) or `--stack <name>` (see --help)");
  // An empty GITHUB_STEP_SUMMARY means "not on GitHub", not a file named "".
  const summary = raw.summary ?? (env.GITHUB_STEP_SUMMARY === "" ? undefined : env.GITHUB_STEP_SUMMARY);
  return {
    ...(raw.endpoints !== undefined && { endpoints: raw.endpoints }),
    ...(raw.stack !== undefined && { stack: raw.stack }),
    ...(raw.tiers !== undefined && { tiers: parseTiers(raw.tiers) }),
    deadlineMs: parseDeadline(raw.deadline),
    strict: raw.strict,
    ...(raw.json !== undefined && { json: raw.json }),
    ...(raw.junit !== undefined && { junit: raw.junit }),
    ...(summary !== undefined && { summary }),
    quiet: raw.quiet,
  };
}
