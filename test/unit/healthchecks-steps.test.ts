import { describe, expect, it } from "vitest";
import { TimeoutError } from "../../healthchecks/errors/timeout-error.js";
import { NotReadyError, type StepResult } from "../../healthchecks/probe.js";
import { judgeReplication, parseInfo } from "../../healthchecks/redis-info.js";
import { StepRecorder, bestEffort, errorMessage, remainingMs, withTimeout } from "../../healthchecks/steps.js";

const ctxWith = (leftMs: number, signal = new AbortController().signal) => ({ deadline: Date.now() + leftMs, now: () => Date.now(), signal });

describe("withTimeout", () => {
  it("passes a result through", async () => {
    await expect(withTimeout(ctxWith(1000), "PING", Promise.resolve("PONG"))).resolves.toBe("PONG");
  });

  it("rejects with TimeoutError naming the operation when the deadline comes first", async () => {
    const error = await withTimeout(ctxWith(20), "XREADGROUP", new Promise(() => {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/^XREADGROUP timed out after \d+ ms$/);
  });

  it("honours a cap shorter than the deadline", async () => {
    const started = Date.now();
    await expect(withTimeout(ctxWith(10_000), "connect", new Promise(() => {}), 30)).rejects.toThrow("connect timed out after 30 ms");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("rejects at once when the run is aborted", async () => {
    const controller = new AbortController();
    const pending = withTimeout(ctxWith(10_000, controller.signal), "PUBLISH", new Promise(() => {}));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(TimeoutError);
  });

  it("never reports negative time left", () => {
    expect(remainingMs({ deadline: 10, now: () => 20 })).toBe(0);
  });
});

describe("StepRecorder", () => {
  it("times steps, reports each live, and folds them into the worst verdict with a reason", async () => {
    const live: string[] = [];
    const steps = new StepRecorder("redis", { onStep: (tier, step) => live.push(`${tier}/${step.name}/${step.verdict}`) });
    await steps.run("connect", async () => "127.0.0.1:6379");
    await steps.run("info", async () => ({ verdict: "degraded", detail: "1 of 1 replica missing" }));
    await steps.run("streams", async () => {
      throw new Error("READONLY You can't write against a read only replica.\nmore");
    });
    expect(live).toEqual(["redis/connect/pass", "redis/info/degraded", "redis/streams/fail"]);
    const result = steps.result();
    expect(result.verdict).toBe("fail");
    expect(result.reason).toBe("streams: READONLY You can't write against a read only replica.; info: 1 of 1 replica missing");
    expect(result.steps.map((s: StepResult) => s.detail)).toEqual(["127.0.0.1:6379", "1 of 1 replica missing", "READONLY You can't write against a read only replica."]);
    expect(result.steps.every((s) => s.durationMs >= 0)).toBe(true);
  });

  it("lets NotReadyError through unrecorded, so the runner retries the probe", async () => {
    const steps = new StepRecorder("redis", {});
    await expect(steps.run("connect", async () => Promise.reject(new NotReadyError("refused")))).rejects.toBeInstanceOf(NotReadyError);
    expect(steps.steps).toEqual([]);
  });

  it("has no reason when everything passed", async () => {
    const steps = new StepRecorder("redis", {});
    await steps.run("a", async () => {});
    expect(steps.result()).toEqual({ tier: "redis", verdict: "pass", steps: [expect.objectContaining({ name: "a", verdict: "pass" })] });
  });
});

describe("bestEffort", () => {
  it("resolves when the operation settles either way, or after the timeout when it hangs", async () => {
    await expect(bestEffort(Promise.reject(new Error("DEL failed")), 1000)).resolves.toBeUndefined();
    const started = Date.now();
    await bestEffort(new Promise(() => {}), 30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("errorMessage", () => {
  it("keeps the first line only", () => {
    expect(errorMessage(new Error("one\ntwo"))).toBe("one");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(new TypeError(""))).toBe("TypeError");
  });
});

const INFO = [
  "# Server",
  "redis_version:7.0.15",
  "# Replication",
  "role:master",
  "connected_slaves:2",
  "slave0:ip=10.0.0.2,port=6379,state=online,offset=42,lag=0",
  "slave1:ip=10.0.0.3,port=6379,state=wait_bgsave,offset=0,lag=0",
  "",
].join("\r\n");

describe("parseInfo + judgeReplication", () => {
  it("reads version, role and replicas by state", () => {
    expect(parseInfo(INFO)).toEqual({ version: "7.0.15", role: "master", onlineReplicas: ["10.0.0.2:6379"], syncingReplicas: ["10.0.0.3:6379 (wait_bgsave)"] });
  });

  it("passes when enough replicas are online", () => {
    expect(judgeReplication(parseInfo(INFO), 1)).toEqual({ verdict: "pass", detail: "redis 7.0.15, role master, 1/1 replicas online (10.0.0.2:6379)" });
  });

  it("degrades naming how many are missing and which are up or still syncing", () => {
    expect(judgeReplication(parseInfo(INFO), 3)).toEqual({
      verdict: "degraded",
      detail: "redis 7.0.15, role master: 2 of 3 expected replicas missing (online: 10.0.0.2:6379; not yet in sync: 10.0.0.3:6379 (wait_bgsave))",
    });
    expect(judgeReplication(parseInfo("redis_version:7.2.4\nrole:master\n"), 1).detail).toBe("redis 7.2.4, role master: 1 of 1 expected replica missing (none online)");
  });

  it("fails when the endpoint is a replica", () => {
    expect(judgeReplication(parseInfo("redis_version:7.0.15\nrole:slave\n"), 0).verdict).toBe("fail");
  });
});
