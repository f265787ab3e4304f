/**
 * The Kafka probe's pure judgements (broker count, partition health) as tables, its error
 * classification, and its behaviour when nothing listens (a free 127.0.0.1 port): not ready, retried,
 * then a fail naming the cause when the deadline passes. Real clusters are in test/integration.
 */
import type { ITopicMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import { parseEndpoints, type TierName } from "../../healthchecks/endpoints.js";
import { judgeBrokers, judgePartitions, MAX_LISTED } from "../../healthchecks/kafka-judge.js";
import { isConnectionError, isCoordinatorPending, kafkaProbe } from "../../healthchecks/kafka.js";
import type { Probe } from "../../healthchecks/probe.js";
import { probes } from "../../healthchecks/registry.js";
import { runSmoke } from "../../healthchecks/runner.js";
import { freePort } from "../harness/ports.js";

const broker = (nodeId: number, port = 19092 + nodeId) => ({ nodeId, host: "127.0.0.1", port });
const BOOTSTRAP = ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"];

describe("judgeBrokers", () => {
  it.each([
    ["all three", [broker(0), broker(1), broker(2)], 3, "pass", "3/3 brokers (node ids 0, 1, 2)"],
    ["more than expected", [broker(0), broker(1), broker(2)], 1, "pass", "3/1 brokers (node ids 0, 1, 2)"],
    ["one missing", [broker(2), broker(0)], 3, "degraded", "2/3 brokers (node ids 0, 2); not in the metadata: 127.0.0.1:19093"],
    ["two missing", [broker(1)], 3, "degraded", "1/3 brokers (node ids 1); not in the metadata: 127.0.0.1:19092, 127.0.0.1:19094"],
    ["none", [], 3, "fail", "the metadata lists no broker"],
  ])("%s", (_name, brokers, clusterSize, verdict, detail) => {
    const outcome = judgeBrokers({ brokers, controller: brokers[0]?.nodeId ?? null }, BOOTSTRAP, clusterSize);
    expect(typeof outcome === "string" ? { verdict: "pass", detail: outcome } : outcome).toEqual({ verdict, detail });
  });
});

const partition = (partitionId: number, leader: number, replicas: number[], isr: number[]) => ({ partitionId, leader, replicas, isr, partitionErrorCode: 0, offlineReplicas: [] });
const topic = (name: string, partitions: ReturnType<typeof partition>[]): ITopicMetadata => ({ name, partitions });

describe("judgePartitions", () => {
  const expected = [
    { name: "orders.placed", partitions: 2 },
    { name: "bp.smoke", partitions: 1 },
  ];
  it.each([
    [
      "healthy",
      [topic("orders.placed", [partition(0, 0, [0, 1, 2], [0, 1, 2]), partition(1, 1, [1, 2, 0], [1, 2, 0])]), topic("bp.smoke", [partition(0, 2, [2, 0, 1], [2, 0, 1])])],
      "pass",
      "2 topics, 3 partitions: every one led, ISR complete",
    ],
    [
      "a replica out of sync",
      [topic("orders.placed", [partition(0, 0, [0, 1, 2], [0, 1]), partition(1, 1, [1, 2, 0], [1, 2, 0])]), topic("bp.smoke", [partition(0, 2, [2, 0, 1], [2, 0, 1])])],
      "degraded",
      "orders.placed[0] under-replicated (ISR 2/3, out of sync: node 2)",
    ],
    [
      "fewer partitions than configured",
      [topic("orders.placed", [partition(0, 0, [0], [0])]), topic("bp.smoke", [partition(0, 0, [0], [0])])],
      "degraded",
      "orders.placed has 1 of 2 partitions",
    ],
    [
      "a partition without a leader (fail wins, the degraded ones still listed)",
      [topic("orders.placed", [partition(0, -1, [0, 1, 2], [2]), partition(1, 1, [1, 2, 0], [1])]), topic("bp.smoke", [partition(0, 2, [2, 0, 1], [2, 0, 1])])],
      "fail",
      "orders.placed[0] offline (no leader; replicas 0,1,2); orders.placed[1] under-replicated (ISR 1/3, out of sync: node 2,0)",
    ],
    ["a missing topic", [topic("bp.smoke", [partition(0, 2, [2], [2])])], "fail", "topic orders.placed missing"],
  ])("%s", (_name, metadata, verdict, detail) => {
    const outcome = judgePartitions(expected, metadata);
    expect(typeof outcome === "string" ? { verdict: "pass", detail: outcome } : outcome).toEqual({ verdict, detail });
  });

  it(`lists at most ${MAX_LISTED} problems and counts the rest`, () => {
    const many = Array.from({ length: 10 }, (_, i) => partition(i, 0, [0, 1, 2], [0]));
    const outcome = judgePartitions([{ name: "t", partitions: 10 }], [topic("t", many)]);
    expect(outcome).toEqual({ verdict: "degraded", detail: expect.stringMatching(/t\[5\] under-replicated [^;]+; and 4 more$/) });
  });
});

describe("isConnectionError", () => {
  const named = (name: string, cause?: unknown) => Object.assign(new Error(name), { name }, cause === undefined ? {} : { cause });
  it.each([
    [named("KafkaJSConnectionError"), true],
    [named("KafkaJSNumberOfRetriesExceeded", named("KafkaJSConnectionError")), true],
    [named("KafkaJSNonRetriableError", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })), true],
    [named("KafkaJSSASLAuthenticationError"), false],
    [named("KafkaJSProtocolError"), false],
    ["a string", false],
  ])("%o -> %s", (error, expected) => expect(isConnectionError(error)).toBe(expected));
});

describe("isCoordinatorPending", () => {
  const typed = (type: string) => Object.assign(new Error(type), { name: "KafkaJSProtocolError", type });
  it.each([
    [Object.assign(new Error("Failed to find group coordinator"), { name: "KafkaJSGroupCoordinatorNotFound" }), true],
    [Object.assign(new Error("retries"), { name: "KafkaJSNumberOfRetriesExceeded", cause: typed("GROUP_COORDINATOR_NOT_AVAILABLE") }), true],
    [typed("NOT_COORDINATOR_FOR_GROUP"), true],
    [typed("GROUP_LOAD_IN_PROGRESS"), true],
    [typed("NOT_ENOUGH_REPLICAS"), false],
    [typed("GROUP_AUTHORIZATION_FAILED"), false],
  ])("%o -> %s", (error, expected) => expect(isCoordinatorPending(error)).toBe(expected));
});

describe("the probe with nothing listening", () => {
  it("is registered for the kafka tier", () => {
    expect(probes.get("kafka")).toBe(kafkaProbe);
  });

  it("retries while no broker answers and fails at the deadline naming the cause", async () => {
    const port = await freePort();
    const endpoints = parseEndpoints({ version: 1, stage: "t", kafka: { brokers: [`127.0.0.1:${port}`], clusterSize: 1 } });
    const started = Date.now();
    const result = await runSmoke({ endpoints, tiers: ["kafka"], probes: new Map<TierName, Probe>([["kafka", kafkaProbe]]), deadlineMs: 3000 });
    const tier = result.tiers[0]!;
    expect(tier.verdict).toBe("fail");
    expect(tier.attempts).toBeGreaterThan(1);
    expect(tier.reason).toMatch(/not ready within 3 s .*no Kafka broker answers/);
    expect(Date.now() - started).toBeLessThan(3000 + 2500);
  });
});
