import { describe, expect, it } from "vitest";
import { ConsoleReporter } from "../../healthchecks/report/console.js";
import { JSON_REPORT_FORMAT, renderJson } from "../../healthchecks/report/json.js";
import { escapeXml, renderJunit } from "../../healthchecks/report/junit.js";
import { renderMarkdown } from "../../healthchecks/report/markdown.js";
import type { RunResult } from "../../healthchecks/runner.js";

const NASTY = `<b>"it's" & | pipes\nnewline]]>\u0001`;

const result: RunResult = {
  runId: "bp-smoke-abc-12345678",
  stage: "ci",
  verdict: "fail",
  strict: false,
  deadlineMs: 60_000,
  startedAt: "2025-01-02T03:04:05.678Z",
  durationMs: 1234,
  tiers: [
    {
      tier: "redis",
      verdict: "degraded",
      reason: "ping-info: 1 of 1 expected replica missing",
      attempts: 2,
      durationMs: 40,
      steps: [
        { name: "connect", verdict: "pass", durationMs: 3.5, detail: "127.0.0.1:6379" },
        { name: "ping-info", verdict: "degraded", durationMs: 1, detail: "1 of 1 expected replica missing" },
        { name: "streams-round", verdict: "pass", durationMs: 4 },
      ],
    },
    {
      tier: "nats",
      verdict: "fail",
      reason: NASTY,
      attempts: 1,
      durationMs: 5,
      steps: [{ name: "publish", verdict: "fail", durationMs: 5, detail: NASTY }],
    },
  ],
};

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * A deliberately strict, tiny XML reader: throws on anything not well-formed (unbalanced or crossed
 * tags, raw `<` or `&` outside entities, unquoted or duplicate attributes, text outside the root).
 */
function parseXml(xml: string): XmlElement {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (text: string): string => {
    if (/[<]/.test(text) || /&/.test(text.replace(entity, ""))) throw new Error(`bad character data: ${text}`);
    return text.replace(entity, (e) => ({ "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'" })[e] ?? "?");
  };
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let consumed = 0; // a failed sticky match resets lastIndex, so track the position ourselves
  for (let match = token.exec(body); match !== null; match = token.exec(body)) {
    consumed = token.lastIndex;
    const [, closing, name, rawAttrs, selfClosing, text] = match;
    if (text !== undefined) {
      if (stack.length === 0) {
        if (text.trim() !== "") throw new Error("text outside the root");
      } else stack[stack.length - 1]!.text += checkText(text);
      continue;
    }
    if (closing) {
      if (stack.pop()?.name !== name) throw new Error(`unbalanced </${name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, key, value] of (rawAttrs ?? "").matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (key! in attrs) throw new Error(`duplicate attribute ${key}`);
      attrs[key!] = checkText(value!);
    }
    const element: XmlElement = { name: name!, attrs, children: [], text: "" };
    if (stack.length === 0) {
      if (root) throw new Error("two roots");
      root = element;
    } else stack[stack.length - 1]!.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (consumed !== body.length) throw new Error(`not well-formed at character ${consumed}`);
  if (!root || stack.length > 0) throw new Error("unclosed element");
  return root;
}

describe("parseXml (the test's own checker)", () => {
  it.each(["<a><b></a></b>", "<a>x & y</a>", '<a k="1" k="2"/>', "<a k=1/>", "<a>1 < 2</a>", "<a/><b/>", "<a>"])("rejects %s", (bad) => {
    expect(() => parseXml(bad)).toThrow();
  });
});

describe("renderJunit", () => {
  const doc = parseXml(renderJunit(result));

  it("is well-formed: testsuites > testsuite per tier > testcase per step", () => {
    expect(doc.name).toBe("testsuites");
    expect(doc.attrs).toMatchObject({ tests: "4", failures: "1", errors: "0", time: "1.234" });
    expect(doc.children.map((s) => [s.name, s.attrs.name, s.attrs.tests, s.attrs.failures])).toEqual([
      ["testsuite", "redis", "3", "0"],
      ["testsuite", "nats", "1", "1"],
    ]);
    expect(doc.children[0]?.attrs.timestamp).toBe("2025-01-02T03:04:05");
    const cases = doc.children[0]!.children.filter((c) => c.name === "testcase");
    expect(cases.map((c) => [c.attrs.name, c.attrs.classname, c.attrs.time])).toEqual([
      ["connect", "smoke.redis", "0.004"],
      ["ping-info", "smoke.redis", "0.001"],
      ["streams-round", "smoke.redis", "0.004"],
    ]);
  });

  it("notes degraded in system-out, not as a failure", () => {
    const degraded = doc.children[0]!.children.find((c) => c.attrs.name === "ping-info")!;
    expect(degraded.children.map((c) => c.name)).toEqual(["system-out"]);
    expect(degraded.children[0]?.text).toBe("degraded: 1 of 1 expected replica missing");
  });

  it("makes degraded a failure in strict mode", () => {
    const strict = parseXml(renderJunit({ ...result, strict: true }));
    expect(strict.children[0]?.attrs.failures).toBe("1");
    const failure = strict.children[0]!.children.find((c) => c.attrs.name === "ping-info")!.children[0]!;
    expect(failure).toMatchObject({ name: "failure", attrs: { type: "degraded" } });
  });

  it("escapes hostile text in attributes and content, dropping characters XML cannot hold", () => {
    const failure = doc.children[1]!.children.find((c) => c.name === "testcase")!.children[0]!;
    const expected = NASTY.replace("\u0001", "");
    expect(failure).toMatchObject({ name: "failure", attrs: { message: expected, type: "fail" }, text: expected });
    expect(escapeXml(`a<b>&"'`)).toBe("a&lt;b&gt;&amp;&quot;&apos;");
  });

  it("adds a verdict test case when a tier failed without a failing step", () => {
    const noSteps = parseXml(renderJunit({ ...result, tiers: [{ tier: "kafka", verdict: "fail", reason: "no probe for tier kafka", attempts: 0, durationMs: 0, steps: [] }] }));
    const testcase = noSteps.children[0]!.children.find((c) => c.name === "testcase")!;
    expect(testcase.attrs.name).toBe("verdict");
    expect(testcase.children[0]).toMatchObject({ name: "failure", text: "no probe for tier kafka" });
  });
});

describe("renderJson", () => {
  it("holds every tier, step, timing, verdict and reason", () => {
    const parsed = JSON.parse(renderJson(result)) as Record<string, unknown>;
    expect(parsed).toEqual({ format: JSON_REPORT_FORMAT, ...result });
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(result);
  const rows = md.split("\n").filter((line) => line.startsWith("| "));

  it("has a headline and a tier table whose rows have as many cells as the header", () => {
    expect(md.split("\n")[0]).toBe("### ❌ Broker smoke `ci`: fail");
    const cells = (row: string): number => row.split(/(?<!\\)\|/).length;
    const header = rows[0]!;
    expect(header).toBe("| Tier | Verdict | Steps passed | Time | Attempts | Reason |");
    for (const row of rows.slice(0, 4)) expect(cells(row)).toBe(cells(header));
    expect(rows[2]).toBe("| redis | ⚠️ degraded | 2/3 | 40 ms | 2 | ping-info: 1 of 1 expected replica missing |");
  });

  it("keeps hostile text inside its cell", () => {
    const nats = rows.find((row) => row.startsWith("| nats "))!;
    expect(nats).toContain("&lt;b&gt;");
    expect(nats).toContain("\\| pipes newline");
  });
});

describe("ConsoleReporter", () => {
  const run = (live: boolean, color: boolean, quiet = false): string => {
    let out = "";
    const reporter = new ConsoleReporter({ write: (t) => (out += t), live, color, quiet });
    reporter.onTierStart("redis");
    reporter.onNotReady("redis", 1, "connection refused", 250);
    for (const step of result.tiers[0]!.steps) reporter.onStep("redis", step);
    reporter.onTierDone(result.tiers[0]!);
    reporter.finish({ ...result, tiers: [result.tiers[0]!], verdict: "degraded" });
    return out;
  };

  it("prints plain lines without escape codes when not live", () => {
    const out = run(false, false);
    expect(out).not.toContain("\x1b");
    expect(out.split("\n")).toEqual([
      "redis    running",
      "redis    not ready (attempt 1): connection refused; retrying in 250 ms",
      "redis    connect        pass         4 ms  127.0.0.1:6379",
      "redis    ping-info      degraded     1 ms  1 of 1 expected replica missing",
      "redis    streams-round  pass         4 ms",
      "redis    DEGRADED (3 steps, 40 ms, 2 attempts)  ping-info: 1 of 1 expected replica missing",
      "smoke ci: DEGRADED — 1 tier in 1234 ms (run bp-smoke-abc-12345678)",
      "",
    ]);
  });

  it("redraws in place when live, with colour when asked", () => {
    const out = run(true, true);
    expect(out).toMatch(/\x1b\[\d+A\r\x1b\[0J/); // cursor up + clear
    expect(out).toContain("\x1b[33mdegraded");
  });

  it("moves up over wrapped rows too when redrawing on a narrow terminal", () => {
    const writes: string[] = [];
    const reporter = new ConsoleReporter({ write: (t) => writes.push(t), live: true, color: true, quiet: false, columns: 10 });
    reporter.onTierStart("redis"); // "redis    running": 16 visible characters -> 2 rows of 10
    reporter.onStep("redis", { name: "connect", verdict: "pass", durationMs: 1 });
    expect(writes[1]?.startsWith("\x1b[2A\r\x1b[0J")).toBe(true);
  });

  it("treats a terminal that reports 0 columns as 80 wide", () => {
    const writes: string[] = [];
    const reporter = new ConsoleReporter({ write: (t) => writes.push(t), live: true, color: false, quiet: false, columns: 0 });
    reporter.onTierStart("redis");
    reporter.onTierStart("nats");
    expect(writes[1]?.startsWith("\x1b[1A\r\x1b[0J")).toBe(true);
  });

  it("prints only tiers that did not pass when quiet", () => {
    expect(run(false, false, true)).toBe("redis    DEGRADED (3 steps, 40 ms, 2 attempts)  ping-info: 1 of 1 expected replica missing\n");
  });
});
