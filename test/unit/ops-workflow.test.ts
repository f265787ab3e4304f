/** The GitHub workflows lint clean with a real linter, and do what the README promises. */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = resolve(__dirname, "..", "..");
const ACTIONLINT = join(ROOT, ".cache", "bin", "actionlint");
const WORKFLOWS = join(ROOT, ".github", "workflows");

type Step = { name?: string; run?: string; uses?: string; if?: string };

describe("GitHub workflows", () => {
  it("lint clean with actionlint (scripts/install/actionlint.sh builds it)", () => {
    expect(existsSync(ACTIONLINT), "run scripts/install/actionlint.sh").toBe(true);
    const files = readdirSync(WORKFLOWS).map((f) => join(WORKFLOWS, f));
    const result = spawnSync(ACTIONLINT, ["-no-color", ...files], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("actionlint does fail a broken workflow (the lint is not a formality)", () => {
    const dir = mkdtempSync(join(tmpdir(), "bp-wf-"));
    const broken = join(dir, "broken.yml");
    writeFileSync(broken, "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.event.nope.x }}\n        if: ${{ steps.missing.outputs.y }}\n");
    const result = spawnSync(ACTIONLINT, ["-no-color", broken], { encoding: "utf8" });
    rmSync(dir, { recursive: true, force: true });
    expect(result.status).not.toBe(0);
  });

  it("creates, smokes, hands over the endpoints, publishes JUnit and always destroys the PR environment", () => {
    const workflow = parse(readFileSync(join(WORKFLOWS, "pr-environment.yml"), "utf8"));
    const steps: Step[] = workflow.jobs.environment.steps;
    const index = (pattern: RegExp) => steps.findIndex((s) => pattern.test(s.run ?? s.uses ?? ""));
    const create = index(/npm run env -- create --name "\$ENV_NAME" --from ci/);
    const output = index(/env -- output --name "\$ENV_NAME" --format dotenv/);
    const junit = index(/action-junit-report/);
    const destroy = index(/npm run env -- destroy --name "\$ENV_NAME"/);
    expect([create, output, junit, destroy].every((i) => i >= 0)).toBe(true);
    expect(create).toBeLessThan(output);
    expect(output).toBeLessThan(destroy);
    expect(steps[destroy]!.if).toBe("always()");
    expect(steps[junit]!.if).toBe("always()");
    // The state must outlive the runner: an object-store backend from a secret.
    expect(workflow.env.PULUMI_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
  });

  it("collects expired environments on a schedule", () => {
    const workflow = parse(readFileSync(join(WORKFLOWS, "env-gc.yml"), "utf8"));
    expect(workflow.on.schedule).toHaveLength(1);
    expect(workflow.jobs.gc.steps.some((s: Step) => s.run === "npm run env -- gc")).toBe(true);
  });
});

describe("smoke image build (Dockerfile)", () => {
  it("compiles the healthchecks alone to JavaScript that runs under plain node", () => {
    // Inside the repo, so the compiled files resolve node_modules as they do in the image.
    mkdirSync(join(ROOT, ".cache"), { recursive: true });
    const out = mkdtempSync(join(ROOT, ".cache", "dist-"));
    try {
      execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.smoke.json"), "--outDir", out], { cwd: ROOT });
      const help = spawnSync(process.execPath, [join(out, "healthchecks", "cli.js"), "--help"], { cwd: ROOT, encoding: "utf8" });
      expect(help.status).toBe(0);
      expect(help.stdout).toContain("Usage: botplatform-smoke");
      const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
      expect(dockerfile).toContain("tsc -p tsconfig.smoke.json");
      expect(dockerfile).toMatch(/^USER node$/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
