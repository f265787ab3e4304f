/**
 * The CLI's `main` with injected I/O and fake probes: flags, exit codes, sources, reports, secrets.
 * (test/integration/healthchecks-cli.test.ts runs the real process against real Redis.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main, type CliIo } from "../../healthchecks/cli/main.js";
import type { Exec } from "../../healthchecks/cli/load-endpoints.js";
import type { Probe, Verdict } from "../../healthchecks/probe.js";

const SECRET = "cli-unit-secret-9q8w";
const dir = mkdtempSync(join(tmpdir(), "bp-cli-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const doc = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  version: 1,
  stage: "unit",
  redis: { url: `redis://default:${SECRET}@127.0.0.1:1/0` },
  ...extra,
});

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** A probe with a fixed verdict whose detail tries to leak the secret. */
const probeWith = (verdict: Verdict): Probe => async () => ({
  tier: "redis",
  verdict,
  ...(verdict !== "pass" && { reason: `saw redis://default:${SECRET}@host and ${SECRET}` }),
  steps: [{ name: "round", verdict, durationMs: 2, detail: `payload ${SECRET}` }],
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], io: Partial<CliIo> & { verdict?: Verdict } = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    isTTY: false,
    readStdin: async () => "",
    runOptions: { probes: new Map([["redis", probeWith(io.verdict ?? "pass")]]) },
    ...io,
  });
  return { code, stdout, stderr };
}

/** Exit 2 with exactly one line on stderr, containing `fragment`, and no stack trace. */
function expectUsage(result: Run, fragment: string): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).toContain(fragment);
  expect(result.stderr).toMatch(/^botplatform-smoke: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).toBe("");
}

describe("botplatform-smoke usage", () => {
  it("documents every flag and the exit codes in --help, exit 0", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const text of ["--endpoints", "--stack", "--tiers", "--deadline", "--strict", "--json", "--junit", "--summary", "--quiet", "Exit codes:", "GITHUB_STEP_SUMMARY", "NO_COLOR"]) {
      expect(stdout).toContain(text);
    }
  });

  it.each<[string, string[], string]>([
    ["no source", [], "pass `--endpoints <file>`"],
    ["two sources", ["--endpoints", "x", "--stack", "ci"], "either `--endpoints` or `--stack`"],
    ["unknown flag", ["--frobnicate"], "unknown option '--frobnicate'"],
    ["a flag without its value", ["--endpoints"], "--endpoints <file>"],
    ["unknown tier", ["--endpoints", "x", "--tiers", "redis,mqtt"], "unknown tier `mqtt` in `--tiers`"],
    ["empty tier list", ["--endpoints", "x", "--tiers", ","], "`--tiers` lists no tier"],
    ["zero deadline", ["--endpoints", "x", "--deadline", "0"], "`--deadline` must be a positive number of seconds, got `0`"],
    ["non-numeric deadline", ["--endpoints", "x", "--deadline", "soon"], "got `soon`"],
    ["missing file", ["--endpoints", join(dir, "nope.json")], "cannot read endpoints file"],
  ])("exits 2 on %s", async (_label, argv, fragment) => {
    expectUsage(await run(argv), fragment);
  });

  it("exits 2 naming the field for invalid endpoints, without quoting a secret", async () => {
    const path = file("bad.json", doc({ redis: { url: `http://default:${SECRET}@h` }, nats: { servers: [] } }));
    const result = await run(["--endpoints", path]);
    expectUsage(result, "redis.url: must be a redis:// or rediss:// URL; nats.servers: must have at least 1 entry");
    expect(result.stderr).not.toContain(SECRET);
  });

  it("exits 2 on JSON that does not parse, without echoing its text", async () => {
    const result = await run(["--endpoints", file("broken.json", `{"redis": {"url": "redis://:${SECRET}@h"`)]);
    expectUsage(result, "are not valid JSON");
    expect(result.stderr).not.toContain(SECRET);
  });

  it("exits 2 when --tiers asks for a tier the endpoints lack, or when they list none", async () => {
    expectUsage(await run(["--endpoints", file("r.json", doc()), "--tiers", "nats"]), "`--tiers` asks for `nats`, but the endpoints have no such block");
    expectUsage(await run(["--endpoints", file("none.json", { version: 1, stage: "x" })]), "the endpoints list no tier");
  });
});

describe("botplatform-smoke sources", () => {
  it("reads stdin with --endpoints -", async () => {
    const result = await run(["--endpoints", "-"], { readStdin: async () => JSON.stringify(doc()) });
    expect(result.code).toBe(0);
  });

  it("reads `pulumi stack output` for --stack, passing the stack name, and accepts a doubly encoded document", async () => {
    const calls: string[][] = [];
    const exec: Exec = async (program, args) => {
      calls.push([program, ...args]);
      return { stdout: JSON.stringify(JSON.stringify(doc())), stderr: "", code: 0 };
    };
    expect((await run(["--stack", "ci"], { exec })).code).toBe(0);
    expect(calls).toEqual([["pulumi", "stack", "output", "endpoints", "--json", "--show-secrets", "--stack", "ci"]]);
  });

  it("exits 2 with a clear message when pulumi is not on PATH or fails", async () => {
    const missing: Exec = async () => Promise.reject(Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" }));
    expectUsage(await run(["--stack", "ci"], { exec: missing }), "`--stack` needs the pulumi CLI, which is not on PATH");
    const failing: Exec = async () => ({ stdout: "", stderr: "\nerror: no stack named 'ci' found\nmore\n", code: 255 });
    expectUsage(await run(["--stack", "ci"], { exec: failing }), "failed for stack `ci`: error: no stack named 'ci' found");
  });
});

describe("botplatform-smoke runs", () => {
  it.each<[Verdict, string[], number]>([
    ["pass", [], 0],
    ["degraded", [], 0],
    ["degraded", ["--strict"], 1],
    ["fail", [], 1],
  ])("%s %j exits %i", async (verdict, flags, expected) => {
    expect((await run(["--endpoints", file("ok.json", doc()), ...flags], { verdict })).code).toBe(expected);
  });

  it("writes JSON, JUnit and summary reports and never a secret anywhere", async () => {
    const [json, junit, summary] = ["r/out.json", "r/out.xml", "r/out.md"].map((p) => join(dir, p)) as [string, string, string];
    const result = await run(["--endpoints", file("ok.json", doc()), "--json", json, "--junit", junit, "--summary", summary], { verdict: "fail" });
    expect(result.code).toBe(1);
    const texts = [result.stdout, result.stderr, readFileSync(json, "utf8"), readFileSync(junit, "utf8"), readFileSync(summary, "utf8")];
    for (const text of texts) expect(text).not.toContain(SECRET);
    expect(JSON.parse(texts[2]!)).toMatchObject({ verdict: "fail", stage: "unit", tiers: [{ tier: "redis", reason: "saw redis://default:***@host and ***" }] });
    expect(texts[3]).toContain('<testsuite name="redis"');
    expect(texts[4]).toContain("| redis | ❌ fail |");
  });

  it("appends the summary to $GITHUB_STEP_SUMMARY by default", async () => {
    const summary = file("step-summary.md", "earlier step\n");
    await run(["--endpoints", file("ok.json", doc())], { env: { GITHUB_STEP_SUMMARY: summary } });
    const text = readFileSync(summary, "utf8");
    expect(text.startsWith("earlier step\n### ✅ Broker smoke `unit`: pass")).toBe(true);
  });

  it("exits 2 when a report cannot be written", async () => {
    const blocker = file("blocker", "a file, not a directory");
    expectUsage(await run(["--endpoints", file("ok.json", doc()), "--json", join(blocker, "out.json")]), "cannot write report");
  });

  it("redraws with colour on a TTY, plain lines under CI, no colour with NO_COLOR, nothing with --quiet", async () => {
    const path = file("ok.json", doc());
    const tty = await run(["--endpoints", path], { isTTY: true });
    expect(tty.stdout).toContain("\x1b[32m"); // green pass
    expect(tty.stdout).toMatch(/\x1b\[\d+A/); // cursor up: redraw
    const ci = await run(["--endpoints", path], { isTTY: true, env: { CI: "true" } });
    expect(ci.stdout).not.toMatch(/\x1b\[\d+A/);
    const noColor = await run(["--endpoints", path], { isTTY: true, env: { NO_COLOR: "1" } });
    expect(noColor.stdout).not.toMatch(/\x1b\[3\dm/);
    expect((await run(["--endpoints", path, "--quiet"])).stdout).toBe("");
  });
});
