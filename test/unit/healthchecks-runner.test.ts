import { describe, expect, it } from "vitest";
import { parseEndpoints, type TierName } from "../../healthchecks/endpoints.js";
import { NotReadyError, type Probe } from "../../healthchecks/probe.js";
import { ABORT_GRACE_MS, BACKOFF_MAX_MS, backoffDelay, newRunId, runSmoke, type Clock } from "../../healthchecks/runner.js";

const endpoints = parseEndpoints({
  version: 1,
  stage: "unit",
  redis: { url: "redis://127.0.0.1:1" },
  nats: { servers: ["nats://127.0.0.1:1"] },
});

/** Virtual time: `sleep` advances it instantly and records what was asked. */
function fakeClock(start = 1_700_000_000_000): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
    sleeps,
  };
}

const passing: Probe = async () => ({ tier: "redis", verdict: "pass", steps: [{ name: "round", verdict: "pass", durationMs: 1 }] });
const only = (tier: TierName, probe: Probe): Map<TierName, Probe> => new Map([[tier, probe]]);

describe("backoffDelay", () => {
  it("starts at 250 ms, doubles, caps at 5 s, and jitters within [base/2, base]", () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, () => 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, () => 0.999_999));
    expect(low).toEqual([125, 250, 500, 1000, 2000, 2500, 2500, 2500]);
    expect(high).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    expect(Math.max(...high)).toBe(BACKOFF_MAX_MS);
  });
});

describe("runSmoke retry and deadline", () => {
  it("retries while the probe is not ready, then reports its result with the attempt count", async () => {
    const clock = fakeClock();
    let calls = 0;
    const probe: Probe = async (ctx) => {
      calls++;
      if (calls < 4) throw new NotReadyError(`refused #${calls}`);
      return passing(ctx);
    };
    const notReady: string[] = [];
    const result = await runSmoke({
      endpoints,
      tiers: ["redis"],
      probes: only("redis", probe),
      clock,
      random: () => 0,
      onNotReady: (_tier, attempt, reason) => notReady.push(`${attempt}:${reason}`),
    });
    expect(result.verdict).toBe("pass");
    expect(result.tiers[0]?.attempts).toBe(4);
    expect(clock.sleeps).toEqual([125, 250, 500]);
    expect(notReady).toEqual(["1:refused #1", "2:refused #2", "3:refused #3"]);
  });

  it("gives up before the deadline with the last not-ready reason and never sleeps past it", async () => {
    const clock = fakeClock();
    const start = clock.now();
    const probe: Probe = async () => {
      clock.advance(1000); // each attempt spends 1 s connecting
      throw new NotReadyError("connection refused at 127.0.0.1:1");
    };
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), clock, random: () => 0, deadlineMs: 10_000 });
    const tier = result.tiers[0];
    // 1 s per attempt plus 125, 250, 500, 1000, 2000 ms of backoff: the 6th attempt ends at 9.875 s.
    expect(clock.sleeps).toEqual([125, 250, 500, 1000, 2000]);
    expect(tier?.attempts).toBe(6);
    expect(clock.now() - start).toBeLessThanOrEqual(10_000);
    expect(tier?.verdict).toBe("fail");
    expect(tier?.reason).toBe("not ready within 10 s (6 attempts): connection refused at 127.0.0.1:1");
    expect(tier?.steps).toEqual([{ name: "ready", verdict: "fail", durationMs: 9875, detail: tier?.reason }]);
    expect(result.verdict).toBe("fail");
  });

  it("shortens the last backoff so a final attempt still fits before the deadline", async () => {
    const clock = fakeClock();
    let calls = 0;
    const probe: Probe = async (ctx) => {
      if (++calls === 1) {
        clock.advance(3_000);
        throw new NotReadyError("loading");
      }
      return passing(ctx);
    };
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), clock, random: () => 0.999_999, deadlineMs: 3_600 });
    expect(clock.sleeps).toEqual([100]); // 3.6 s - 3 s - 0.5 s minimum attempt window, not the 250 ms backoff
    expect(result.tiers[0]?.verdict).toBe("pass");
  });

  it("fails at once (no retry) when a probe throws anything but NotReadyError", async () => {
    const clock = fakeClock();
    const probe: Probe = async () => {
      throw new Error("WRONGTYPE something\nsecond line");
    };
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), clock });
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", attempts: 1, reason: "WRONGTYPE something" });
    expect(clock.sleeps).toEqual([]);
  });

  it("aborts a probe that overruns the deadline and keeps the steps it finished", async () => {
    const probe: Probe = (ctx) =>
      new Promise((_resolve, reject) => {
        ctx.onStep?.("redis", { name: "connect", verdict: "pass", durationMs: 1 });
        ctx.signal.addEventListener("abort", () => reject(new Error("XREADGROUP timed out")));
      });
    const started = Date.now();
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), deadlineMs: 100 });
    expect(Date.now() - started).toBeLessThan(100 + ABORT_GRACE_MS);
    expect(result.tiers[0]?.steps.map((s) => `${s.name}:${s.verdict}`)).toEqual(["connect:pass", "probe:fail"]);
    expect(result.tiers[0]?.reason).toBe("XREADGROUP timed out");
  });

  it("gives a probe that ignores the abort a grace period, then reports the deadline", async () => {
    const probe: Probe = () => new Promise(() => {});
    const started = Date.now();
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), deadlineMs: 50 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(50 + ABORT_GRACE_MS - 10);
    expect(elapsed).toBeLessThan(50 + ABORT_GRACE_MS + 1000);
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", reason: "deadline of 50 ms passed during the probe" });
  });

  it("stops retrying when the caller aborts", async () => {
    const controller = new AbortController();
    const probe: Probe = async () => {
      throw new NotReadyError("refused");
    };
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async () => controller.abort(), // the user presses Ctrl-C during the first backoff
    };
    const result = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", probe), clock, signal: controller.signal });
    expect(result.tiers[0]).toMatchObject({ verdict: "fail", attempts: 1, reason: "aborted: refused" });
  });
});

describe("runSmoke tiers", () => {
  it("runs tiers in parallel", async () => {
    let release: () => void = () => {};
    const natsStarted = new Promise<void>((resolve) => (release = resolve));
    // redis can only finish once nats has started: sequential execution would hit the deadline.
    const redis: Probe = async (ctx) => {
      await natsStarted;
      return passing(ctx);
    };
    const nats: Probe = async () => {
      release();
      return { tier: "nats", verdict: "pass", steps: [] };
    };
    const result = await runSmoke({ endpoints, probes: new Map([["redis", redis], ["nats", nats]]), deadlineMs: 1000 });
    expect(result.tiers.map((t) => `${t.tier}:${t.verdict}`)).toEqual(["redis:pass", "nats:pass"]);
  });

  it("fails a tier without a registered probe, naming it, and only that tier", async () => {
    const result = await runSmoke({ endpoints, probes: only("redis", passing) });
    expect(result.tiers.map((t) => [t.tier, t.verdict, t.reason])).toEqual([
      ["redis", "pass", undefined],
      ["nats", "fail", "no probe for tier nats"],
    ]);
  });

  it("fails a requested tier that has no endpoints block", async () => {
    const result = await runSmoke({ endpoints, tiers: ["kafka"], probes: only("kafka", passing) });
    expect(result.tiers[0]).toMatchObject({ tier: "kafka", verdict: "fail", reason: "endpoints have no `kafka` block" });
  });

  it("lets degraded pass, unless strict", async () => {
    const degraded: Probe = async () => ({ tier: "redis", verdict: "degraded", reason: "1 replica missing", steps: [] });
    const relaxed = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", degraded) });
    const strict = await runSmoke({ endpoints, tiers: ["redis"], probes: only("redis", degraded), strict: true });
    expect([relaxed.verdict, strict.verdict]).toEqual(["degraded", "fail"]);
    expect(strict.tiers[0]?.verdict).toBe("degraded"); // the tier says what it saw; the run applies strictness
  });

  it("hands every probe the same run id, the deadline and the endpoints", async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const probe: Probe = async (ctx) => {
      seen.push(`${ctx.runId}|${ctx.deadline - ctx.now()}|${ctx.endpoints.stage}`);
      return passing(ctx);
    };
    const result = await runSmoke({ endpoints, probes: new Map([["redis", probe], ["nats", probe]]), clock, deadlineMs: 5000, runId: "bp-smoke-x-1" });
    expect(seen).toEqual(["bp-smoke-x-1|5000|unit", "bp-smoke-x-1|5000|unit"]);
    expect(result).toMatchObject({ runId: "bp-smoke-x-1", stage: "unit", deadlineMs: 5000, startedAt: new Date(1_700_000_000_000).toISOString() });
  });
});

describe("newRunId", () => {
  it("is bp-smoke-<base36 time>-<random> and unique", () => {
    const ids = Array.from({ length: 1000 }, () => newRunId(1_700_000_000_000));
    for (const id of ids) expect(id).toMatch(/^bp-smoke-loyw3v28-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
