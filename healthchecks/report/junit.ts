/**
 * JUnit XML as GitHub Actions reporters, GitLab and Jenkins read it: `<testsuites>` > one `<testsuite>`
 * per tier > one `<testcase>` per step. A `fail` step carries `<failure>`; a `degraded` step carries a
 * `<system-out>` note and counts as a failure only in strict mode. A tier that failed without a failing
 * step (cannot happen with the runner, but the format must not lose it) gets a `verdict` test case.
 */
import type { StepResult, TierResult } from "../probe.js";
import type { RunResult } from "../runner.js";

// XML 1.0 forbids most C0 controls even when escaped; drop them.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for XML element content and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const secondsOf = (ms: number): string => (ms / 1000).toFixed(3);

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value))}"`)
    .join("");
}

function isFailure(verdict: StepResult["verdict"], strict: boolean): boolean {
  return verdict === "fail" || (strict && verdict === "degraded");
}

function testcase(tier: TierResult, step: StepResult, strict: boolean): string {
  const open = `    <testcase${attrs({ name: step.name, classname: `smoke.${tier.tier}`, time: secondsOf(step.durationMs) })}`;
  const detail = step.detail ?? step.verdict;
  if (isFailure(step.verdict, strict)) {
    return `${open}>\n      <failure${attrs({ message: detail, type: step.verdict })}>${escapeXml(detail)}</failure>\n    </testcase>`;
  }
  if (step.verdict === "degraded") return `${open}>\n      <system-out>${escapeXml(`degraded: ${detail}`)}</system-out>\n    </testcase>`;
  return `${open}/>`;
}

function testsuite(tier: TierResult, strict: boolean, timestamp: string): { xml: string; tests: number; failures: number } {
  const steps = [...tier.steps];
  if (isFailure(tier.verdict, strict) && !steps.some((s) => isFailure(s.verdict, strict))) {
    steps.push({ name: "verdict", verdict: tier.verdict, durationMs: 0, detail: tier.reason ?? tier.verdict });
  }
  const failures = steps.filter((s) => isFailure(s.verdict, strict)).length;
  const properties = [
    `      <property${attrs({ name: "verdict", value: tier.verdict })}/>`,
    `      <property${attrs({ name: "attempts", value: tier.attempts })}/>`,
    ...(tier.reason === undefined ? [] : [`      <property${attrs({ name: "reason", value: tier.reason })}/>`]),
  ];
  const xml = [
    `  <testsuite${attrs({ name: tier.tier, tests: steps.length, failures, errors: 0, skipped: 0, time: secondsOf(tier.durationMs), timestamp })}>`,
    "    <properties>",
    ...properties.map((p) => `  ${p}`),
    "    </properties>",
    ...steps.map((step) => testcase(tier, step, strict)),
    "  </testsuite>",
  ].join("\n");
  return { xml, tests: steps.length, failures };
}

export function renderJunit(result: RunResult): string {
  const timestamp = result.startedAt.replace(/\.\d+Z$/, ""); // JUnit's schema wants no zone or fraction
  const suites = result.tiers.map((tier) => testsuite(tier, result.strict, timestamp));
  const tests = suites.reduce((n, s) => n + s.tests, 0);
  const failures = suites.reduce((n, s) => n + s.failures, 0);
  const name = `botplatform-smoke ${result.stage} (${result.runId})`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name, tests, failures, errors: 0, time: secondsOf(result.durationMs) })}>`,
    ...suites.map((s) => s.xml),
    "</testsuites>",
    "",
  ].join("\n");
}
