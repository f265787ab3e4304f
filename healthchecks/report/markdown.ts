/**
 * A GitHub step-summary (GitHub-flavoured Markdown): a headline, one table row per tier, and each
 * tier's steps in a collapsed `<details>` block.
 */
import type { Verdict } from "../probe.js";
import type { RunResult } from "../runner.js";

const ICON: Record<Verdict, string> = { pass: "✅", degraded: "⚠️", fail: "❌" };

/** Makes text safe inside a table cell: no pipes or newlines, and no HTML the summary would render. */
export function escapeCell(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const ms = (value: number): string => `${Math.round(value)} ms`;

export function renderMarkdown(result: RunResult): string {
  const lines = [
    `### ${ICON[result.verdict]} Broker smoke \`${escapeCell(result.stage)}\`: ${result.verdict}${result.strict ? " (strict)" : ""}`,
    "",
    `Run \`${result.runId}\`, started ${result.startedAt}, ${ms(result.durationMs)}.`,
    "",
    "| Tier | Verdict | Steps passed | Time | Attempts | Reason |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const tier of result.tiers) {
    const passed = tier.steps.filter((s) => s.verdict === "pass").length;
    lines.push(
      `| ${tier.tier} | ${ICON[tier.verdict]} ${tier.verdict} | ${passed}/${tier.steps.length} | ${ms(tier.durationMs)} | ${tier.attempts} | ${escapeCell(tier.reason ?? "")} |`,
    );
  }
  for (const tier of result.tiers) {
    lines.push("", `<details><summary>${tier.tier} steps</summary>`, "", "| Step | Verdict | Time | Detail |", "| --- | --- | --- | --- |");
    for (const step of tier.steps) {
      lines.push(`| ${escapeCell(step.name)} | ${ICON[step.verdict]} ${step.verdict} | ${ms(step.durationMs)} | ${escapeCell(step.detail ?? "")} |`);
    }
    lines.push("", "</details>");
  }
  return `${lines.join("\n")}\n`;
}
