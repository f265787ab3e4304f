/**
 * `botplatform-smoke`: the process wrapper around `main` (cli/main.ts). Wires real stdio, environment
 * and Ctrl-C, then exits with main's code. Run with `npx tsx healthchecks/cli.ts --help`.
 */
import { text } from "node:stream/consumers";
import { main } from "./cli/main.js";

const controller = new AbortController();
// First signal: abort the run so connections close and reports are still written; second: exit now.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    controller.abort();
    process.once(signal, () => process.exit(130));
  });
}

main(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  readStdin: () => text(process.stdin),
  signal: controller.signal,
}).then(
  (code) => process.exit(code),
  () => process.exit(1), // main never rejects; this only keeps a bug from printing a stack trace
);
