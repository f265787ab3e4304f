/** The Redis channel provisioning as data and as the init task's shell script. */
import { describe, expect, it } from "vitest";
import type { RedisStream } from "../../components/redis/model.js";
import { PLACEHOLDER_GROUP, renderInitScript, shellQuote, streamInitSteps } from "../../components/redis/streams.js";

const stream = (key: string, groups: string[], maxLength = 1000, maxAgeSeconds = 3600): RedisStream => ({ key, groups, maxLength, maxAgeSeconds });

describe("streamInitSteps", () => {
  it.each([
    [
      "two groups",
      stream("orders.placed", ["execution-engine", "risk-engine"]),
      [
        ["XGROUP", "CREATE", "orders.placed", "execution-engine", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", "orders.placed", "risk-engine", "$", "MKSTREAM"],
        ["XTRIM", "orders.placed", "MAXLEN", "~", "1000"],
        ["HSET", "bp:retention:orders.placed", "maxlen", "1000", "maxage-s", "3600"],
      ],
    ],
    [
      "no group: a placeholder group makes the empty stream, then goes",
      stream("audit", [], 50, 60),
      [
        ["XGROUP", "CREATE", "audit", PLACEHOLDER_GROUP, "$", "MKSTREAM"],
        ["XGROUP", "DESTROY", "audit", PLACEHOLDER_GROUP],
        ["XTRIM", "audit", "MAXLEN", "~", "50"],
        ["HSET", "bp:retention:audit", "maxlen", "50", "maxage-s", "60"],
      ],
    ],
  ])("%s", (_, input, commands) => {
    const steps = streamInitSteps([input]);
    expect(steps.map((s) => s.command)).toEqual(commands);
    // Only group creation may meet "already exists"; everything else must succeed.
    expect(steps.filter((s) => s.tolerate !== undefined).map((s) => [s.command[1], s.tolerate])).toEqual(steps.filter((s) => s.command[1] === "CREATE").map(() => ["CREATE", "BUSYGROUP"]));
  });

  it("the placeholder group can never collide with a consumer group of the stage (`:` is not allowed there)", () => {
    expect(PLACEHOLDER_GROUP).toContain(":");
  });

  it("renders nothing for no streams", () => {
    expect(streamInitSteps([])).toEqual([]);
  });
});

describe("renderInitScript", () => {
  const steps = streamInitSteps([stream("orders.placed", ["risk-engine"])]);

  it("reads the password from the file, never inline, and only with auth", () => {
    const withAuth = renderInitScript({ primary: { host: "bp-ci-redis-0", port: 6379 }, passwordFile: "/botplatform-task/password", steps });
    expect(withAuth).toContain("IFS= read -r REDISCLI_AUTH < '/botplatform-task/password'");
    const without = renderInitScript({ primary: { host: "bp-ci-redis-0", port: 6379 }, steps });
    expect(without).not.toContain("REDISCLI_AUTH");
  });

  it("targets the primary and quotes every argument (the `$` of XGROUP CREATE is not expanded)", () => {
    const script = renderInitScript({ primary: { host: "redis-0.redis-headless.ns.svc.cluster.local", port: 6379 }, steps });
    expect(script).toContain("host='redis-0.redis-headless.ns.svc.cluster.local'\nport=6379\n");
    expect(script).toContain("run 'BUSYGROUP' 'XGROUP' 'CREATE' 'orders.placed' 'risk-engine' '$' 'MKSTREAM'\n");
    expect(script).toContain("run '' 'XTRIM' 'orders.placed' 'MAXLEN' '~' '1000'\n");
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain("set -eu\n");
  });

  it.each([
    ["plain", "'plain'"],
    ["it's", `'it'\\''s'`],
    ["$HOME", "'$HOME'"],
  ])("shellQuote(%j) = %s", (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});
