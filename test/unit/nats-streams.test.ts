/** Channels as JetStream objects, the provisioning task rendered from them, and the stage's channel checks. */
import { describe, expect, it } from "vitest";
import { channelSchema, type Channel } from "../../components/channels.js";
import { StageValidationError } from "../../components/errors/stage-validation-error.js";
import { NATS_DOCKER_LAYOUT, natsDockerAddressing } from "../../components/nats/docker.js";
import { INIT_PASSWORD_FILE, INIT_SCRIPT_FILE, natsInitTask } from "../../components/nats/init-script.js";
import { natsModel } from "../../components/nats/model.js";
import { natsSettings } from "../../components/nats/settings.js";
import { channelStream, channelStreams, natsChannelProblems, streamName } from "../../components/nats/streams.js";
import { parseStage } from "../../components/stage.js";
import type { DockerTarget } from "../../components/targets/docker.js";

const channel = (raw: Record<string, unknown>): Channel => channelSchema.parse(raw);
const NS = 1_000_000_000;

describe("channelStream", () => {
  it.each([
    ["orders.placed", "ORDERS_PLACED"],
    ["risk.alerts", "RISK_ALERTS"],
    ["market-data.ticks-l2", "MARKET_DATA_TICKS_L2"],
    ["signals", "SIGNALS"],
  ])("names the stream of %s %s", (name, stream) => {
    expect(streamName(name)).toBe(stream);
  });

  it.each([
    [1, 1],
    [3, 3],
    [5, 3],
  ])("on %i nodes: %i replicas", (nodes, replicas) => {
    expect(channelStream(channel({ name: "signals" }), nodes).stream.num_replicas).toBe(replicas);
  });

  it("maps retention: max_msgs, max_bytes (or -1), max_age in ns, discard old; subjects the channel and below", () => {
    const { stream } = channelStream(channel({ name: "orders.placed", retention: { maxAge: "1d", maxMessages: 500, maxBytes: "64Mi" } }), 3);
    expect(stream).toMatchObject({
      name: "ORDERS_PLACED",
      subjects: ["orders.placed", "orders.placed.>"],
      retention: "limits",
      storage: "file",
      max_msgs: 500,
      max_bytes: 64 * 1024 * 1024,
      max_age: 86400 * NS,
      discard: "old",
      duplicate_window: 120 * NS,
    });
    expect(channelStream(channel({ name: "signals" }), 1).stream.max_bytes).toBe(-1);
  });

  it("shortens the duplicate window to max_age when that is shorter (the server refuses otherwise)", () => {
    expect(channelStream(channel({ name: "signals", retention: { maxAge: "30s" } }), 1).stream.duplicate_window).toBe(30 * NS);
  });

  it("gives every consumer group a durable pull consumer with explicit acks", () => {
    const { consumers } = channelStream(channel({ name: "orders.placed", consumerGroups: ["risk-engine", "portfolio"] }), 3);
    expect(consumers.map((c) => c.durable_name)).toEqual(["risk-engine", "portfolio"]);
    for (const consumer of consumers) expect(consumer).toMatchObject({ ack_policy: "explicit", deliver_policy: "all" });
    expect(consumers[0]).not.toHaveProperty("deliver_subject"); // push consumers have one; pull consumers do not
  });

  it("makes streams of durable channels only", () => {
    const streams = channelStreams([channel({ name: "market.ticks", durable: false }), channel({ name: "signals" })], 3);
    expect(streams.map((s) => s.channel)).toEqual(["signals"]);
  });
});

describe("natsChannelProblems", () => {
  it.each([
    [["orders.placed", "orders.filled"], []],
    [["orders", "orders.placed"], ["channels[1].name"]],
    [["orders.placed", "orders-placed"], ["channels[1].name"]],
    [["a.b", "a.b.c", "a.b.c.d"], ["channels[1].name", "channels[2].name", "channels[2].name"]],
  ])("%j -> %j", (names, paths) => {
    expect(natsChannelProblems(names.map((name) => channel({ name }))).map((p) => p.path)).toEqual(paths);
  });

  it("ignores core (non-durable) channels: they have no stream", () => {
    expect(natsChannelProblems([channel({ name: "orders", durable: false }), channel({ name: "orders.placed" })])).toEqual([]);
  });

  it("is part of the stage validation when nats is enabled, with the other problems at once", () => {
    const raw = { environment: "ci", target: "docker", tiers: ["nats"], nats: { jetstream: { maxFileStore: "2Gi" } }, channels: [{ name: "orders" }, { name: "orders.placed" }] };
    const error = (() => {
      try {
        parseStage("ci", raw);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(StageValidationError);
    expect((error as StageValidationError).problems.map((p) => p.path)).toEqual(expect.arrayContaining(["nats.jetstream.maxFileStore", "channels[1].name"]));
    expect(() => parseStage("ci", { ...raw, tiers: ["redis"], nats: undefined })).not.toThrow();
  });
});

describe("natsInitTask", () => {
  const target = { kind: "docker", prefix: "bp-ci", bindAddress: "127.0.0.1" } as DockerTarget;
  const channels = [channel({ name: "orders.placed", consumerGroups: ["risk-engine", "portfolio"] }), channel({ name: "risk.alerts" }), channel({ name: "market.ticks", durable: false })];
  const build = (auth: boolean) => {
    const settings = natsSettings.parse({ nodes: 3, auth: { enabled: auth } });
    return natsModel({ stack: "ci", settings, addressing: natsDockerAddressing(target, settings), channels, layout: NATS_DOCKER_LAYOUT });
  };

  it("has one JSON file per stream and consumer: the model's own objects", () => {
    const model = build(true);
    const task = natsInitTask(model);
    expect(Object.keys(task.files).sort()).toEqual([
      "consumer-ORDERS_PLACED-portfolio.json",
      "consumer-ORDERS_PLACED-risk-engine.json",
      INIT_SCRIPT_FILE,
      "stream-ORDERS_PLACED.json",
      "stream-RISK_ALERTS.json",
    ]);
    expect(JSON.parse(task.files["stream-ORDERS_PLACED.json"]!)).toEqual(model.streams[0]!.stream);
    expect(JSON.parse(task.files["consumer-ORDERS_PLACED-portfolio.json"]!)).toEqual(model.streams[0]!.consumers[1]);
    // Kubernetes Secret keys: letters, digits, `-`, `_`, `.` only.
    for (const file of Object.keys(task.files)) expect(file).toMatch(/^[-._a-zA-Z0-9]+$/);
  });

  it("dials the cluster by in-network addresses, applies every object with retries, and reads the password from a file", () => {
    const task = natsInitTask(build(true));
    const script = task.files[INIT_SCRIPT_FILE]!;
    expect(script).toContain("export NATS_URL='nats://bp-ci-nats-0:4222,nats://bp-ci-nats-1:4222,nats://bp-ci-nats-2:4222'");
    expect(script).toContain(`NATS_PASSWORD="$(cat "$dir/${INIT_PASSWORD_FILE}")"`);
    expect(script).toContain("retry apply_stream 'ORDERS_PLACED' 'stream-ORDERS_PLACED.json'");
    expect(script).toContain("retry apply_consumer 'ORDERS_PLACED' 'risk-engine' 'consumer-ORDERS_PLACED-risk-engine.json'");
    expect(script).not.toMatch(/stream (rm|delete|purge)/);
    expect(task.needsPassword).toBe(true);
    expect(task.command("/botplatform-task")).toEqual(["sh", `/botplatform-task/${INIT_SCRIPT_FILE}`]);
  });

  it("needs no password without auth", () => {
    expect(natsInitTask(build(false)).needsPassword).toBe(false);
  });
});
