/** Renders a captured plan as a tree, JSON, or (for Kubernetes objects) YAML manifests. */
import { stringify } from "yaml";
import { maskSecrets, revealSecrets, type PlannedResource } from "./capture.js";

export const PLAN_FORMATS = ["tree", "json", "yaml"] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** `showSecrets` prints secret inputs' values instead of `[secret]` (the e2e replay needs them). */
export function renderPlan(resources: PlannedResource[], format: PlanFormat, showSecrets = false): string {
  const show = showSecrets ? revealSecrets : maskSecrets;
  const masked = resources.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: show(r.inputs) as Record<string, unknown>, dependsOn: r.dependsOn }));
  if (format === "json") return JSON.stringify(masked, null, 2) + "\n";
  if (format === "yaml") return renderManifests(masked);
  return renderTree(masked);
}

/** Stack outputs as `pulumi stack output --json [--show-secrets]` prints them. */
export function renderOutputs(outputs: Record<string, unknown>, showSecrets = false): string {
  return JSON.stringify(showSecrets ? revealSecrets(outputs) : maskSecrets(outputs), null, 2) + "\n";
}

function renderTree(resources: PlannedResource[]): string {
  const children = new Map<string | undefined, PlannedResource[]>();
  const names = new Set(resources.map((r) => r.name));
  for (const r of resources) {
    const parent = r.parent !== undefined && names.has(r.parent) ? r.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      lines.push(`${"  ".repeat(depth)}${r.type}  ${r.name}`);
      walk(r.name, depth + 1);
    }
  };
  walk(undefined, 0);
  return `${lines.join("\n")}\n${resources.length} resources\n`;
}

/** Like `helm template`: the Kubernetes objects as a multi-document YAML stream. */
function renderManifests(resources: PlannedResource[]): string {
  const manifests = resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs);
  if (manifests.length === 0) return stringify(resources);
  return manifests.map((m) => `---\n${stringify(m)}`).join("");
}
