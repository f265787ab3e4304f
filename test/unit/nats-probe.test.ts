/** The NATS probe's pure parts: the probe stream's bounds, replica rule, error classes, monitor list. */
import { describe, expect, it } from "vitest";
import { isJetStreamUnavailable, expectedReplicas, smokeStreamConfig, SMOKE_MAX_AGE_MS } from "../../healthchecks/nats-jetstream.js";
import { monitorUrlsOf } from "../../healthchecks/nats.js";

describe("the probe stream BP_SMOKE", () => {
  it.each([
    [1, 1],
    [3, 3],
    [5, 3],
  ])("on %i servers holds %i replicas, like the channels", (size, replicas) => {
    expect(expectedReplicas(size)).toBe(replicas);
    expect(smokeStreamConfig(size).num_replicas).toBe(replicas);
  });

  it("is bounded whatever happens: 10 minutes, capped count and bytes, old messages go first", () => {
    const config = smokeStreamConfig(3);
    expect(config).toMatchObject({ name: "BP_SMOKE", subjects: ["bp.smoke.>"], retention: "limits", discard: "old", max_msgs: 10_000, max_bytes: 16 * 1024 * 1024 });
    expect(config.max_age).toBe(SMOKE_MAX_AGE_MS * 1_000_000);
    expect(SMOKE_MAX_AGE_MS).toBe(10 * 60 * 1000);
    expect(config.duplicate_window).toBeLessThanOrEqual(config.max_age!);
  });
});

describe("isJetStreamUnavailable", () => {
  it.each([
    [{ code: "503", message: "503" }, true],
    [{ code: "TIMEOUT", message: "TIMEOUT" }, true],
    [new Error("JetStream system temporarily unavailable"), true],
    [new Error("no responders available for request"), true],
    [new Error("stream not found"), false],
    [new Error("Permissions Violation for Publish to \"$JS.API.STREAM.DELETE.X\""), false],
  ])("%o -> %s", (err, unavailable) => {
    expect(isJetStreamUnavailable(err)).toBe(unavailable);
  });
});

describe("monitorUrlsOf", () => {
  it.each([
    [{ monitorUrl: "http://a:8222", monitorUrls: ["http://a:8222", "http://b:8222"] }, ["http://a:8222", "http://b:8222"]],
    [{ monitorUrl: "http://a:8222" }, ["http://a:8222"]],
    [{}, []],
  ])("%j -> %j", (block, urls) => {
    expect(monitorUrlsOf({ servers: ["nats://a:4222"], ...block })).toEqual(urls);
  });
});
