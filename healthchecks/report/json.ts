/**
 * The machine-readable report: the whole run (every tier, step, timing, verdict, reason), versioned so
 * consumers can tell shapes apart.
 */
import type { RunResult } from "../runner.js";

export const JSON_REPORT_FORMAT = "botplatform-smoke-report/v1";

export interface JsonReport extends RunResult {
  format: typeof JSON_REPORT_FORMAT;
}

export function toJsonReport(result: RunResult): JsonReport {
  return { format: JSON_REPORT_FORMAT, ...result };
}

export function renderJson(result: RunResult): string {
  return `${JSON.stringify(toJsonReport(result), null, 2)}\n`;
}
