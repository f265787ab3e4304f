/**
 * Where the CLI gets its endpoints document: a file, stdin, or `pulumi stack output`. Every failure is
 * a one-line `UsageError` (exit 2) that never quotes the document (it holds secrets).
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parseEndpoints, type Endpoints } from "../endpoints.js";
import { UsageError } from "../errors/usage-error.js";

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; `null` when killed. */
  code: number | null;
}

/** Runs a program without a shell. Rejects with the spawn error (e.g. `ENOENT`) when it cannot start. */
export type Exec = (file: string, args: readonly string[]) => Promise<ExecResult>;

export const PULUMI_TIMEOUT_MS = 2 * 60 * 1000; // 2 min: `stack output` may fetch state from a backend
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export const execProgram: Exec = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: PULUMI_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err && typeof err.code === "string") return reject(err); // could not start at all
      resolve({ stdout, stderr, code: err ? (typeof err.code === "number" ? err.code : null) : 0 });
    });
  });

export interface EndpointsSource {
  endpoints?: string;
  stack?: string;
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}

async function fromPulumi(stack: string, exec: Exec): Promise<string> {
  let result: ExecResult;
  try {
    result = await exec("pulumi", ["stack", "output", "endpoints", "--json", "--show-secrets", "--stack", stack]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UsageError("`--stack` needs the pulumi CLI, which is not on PATH (install it, or pass `--endpoints <file>`)");
    }
    throw new UsageError(`could not run pulumi: ${(err as Error).message}`);
  }
  if (result.code !== 0) {
    const why = firstLine(result.stderr) || (result.code === null ? `no answer within ${PULUMI_TIMEOUT_MS / 1000} s` : `exit code ${result.code}`);
    throw new UsageError(`\`pulumi stack output endpoints\` failed for stack \`${stack}\`: ${why}`);
  }
  return result.stdout;
}

/** Reads the raw text of the endpoints document. */
export async function readEndpointsText(source: EndpointsSource, readStdin: () => Promise<string>, exec: Exec): Promise<{ text: string; origin: string }> {
  if (source.stack !== undefined) return { text: await fromPulumi(source.stack, exec), origin: `stack \`${source.stack}\`` };
  const file = source.endpoints ?? "-";
  if (file === "-") return { text: await readStdin(), origin: "stdin" };
  try {
    return { text: await readFile(file, "utf8"), origin: `\`${file}\`` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (code ?? "unreadable");
    throw new UsageError(`cannot read endpoints file \`${file}\`: ${why}`);
  }
}

/** JSON text -> validated endpoints. A JSON error names only the position, never the text around it. */
export function endpointsFromText(text: string, origin: string): Endpoints {
  let json: unknown;
  try {
    json = JSON.parse(text);
    // `pulumi stack output` prints a string output as a JSON string: accept a doubly encoded document.
    if (typeof json === "string") json = JSON.parse(json);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new UsageError(`endpoints from ${origin} are not valid JSON${position === undefined ? "" : ` (at character ${position})`}`);
  }
  return parseEndpoints(json);
}
