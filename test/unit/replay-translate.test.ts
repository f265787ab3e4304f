/**
 * The replay's translation of a captured Docker plan into Engine API calls (ops/replay/translate.ts):
 * the provider's conventions on a synthetic plan, every refusal naming what it refuses, and the real
 * Docker stages' plans (local, dev, ci) fully understood, every image covered by the image contract.
 */
import { describe, expect, it } from "vitest";
import { contractOf } from "../../components/targets/image-contract.js";
import { ReplayError } from "../../ops/replay/inputs.js";
import { loadStage } from "../../ops/replay/load.js";
import { nanoseconds, translatePlan, type ContainerStep, type ReplayStep } from "../../ops/replay/translate.js";
import type { PlannedResource } from "../../tools/plan/capture.js";

const resolveAsIs = (image: string) => `local/${image}`;

const network: PlannedResource = { type: "docker:index/network:Network", name: "bp-t-net", inputs: { name: "bp-t-net", driver: "bridge", labels: [{ label: "io.botplatform.stage", value: "t" }] } };
const volume: PlannedResource = { type: "docker:index/volume:Volume", name: "bp-t-redis-0-data", inputs: { name: "bp-t-redis-0-data" } };
const image: PlannedResource = { type: "docker:index/remoteImage:RemoteImage", name: "bp-t-redis-image", inputs: { name: "redis:7.4", keepLocally: true } };
const container = (inputs: Record<string, unknown> = {}, dependsOn = ["bp-t-net", "bp-t-redis-0-data", "bp-t-redis-image"]): PlannedResource => ({
  type: "docker:index/container:Container",
  name: "bp-t-redis-0",
  parent: "bp-t-redis",
  dependsOn,
  inputs: {
    name: "bp-t-redis-0",
    image: "redis:7.4",
    command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
    envs: ["A=1"],
    hostname: "bp-t-redis-0",
    user: "999:999",
    labels: [{ label: "io.botplatform.stage", value: "t" }],
    ports: [{ internal: 6379, external: 16379, ip: "127.0.0.1" }],
    volumes: [{ volumeName: "bp-t-redis-0-data", containerPath: "/data" }],
    networksAdvanced: [{ name: "bp-t-net", aliases: ["bp-t-redis-0"] }],
    uploads: [
      { file: "/usr/local/etc/redis/redis.conf", content: "port 6379\n" },
      { file: "/run/secrets/redis/password", content: "pw", owner: "999", group: "999", permissions: "0400" },
      { file: "/x/run.sh", contentBase64: Buffer.from("echo hi\n").toString("base64"), executable: true },
    ],
    healthcheck: { tests: ["CMD", "redis-cli", "ping"], interval: "5s", timeout: "1m30s", startPeriod: "500ms", retries: 12 },
    memory: 128,
    restart: "unless-stopped",
    wait: true,
    waitTimeout: 120,
    stopSignal: "SIGTERM",
    stopTimeout: 30,
    ...inputs,
  },
});
const component: PlannedResource = { type: "botplatform:redis:RedisTier", name: "bp-t-redis", inputs: {} };

function containerStep(steps: ReplayStep[]): ContainerStep {
  const step = steps.find((s) => s.kind === "container");
  if (step?.kind !== "container") throw new Error("no container step");
  return step;
}

function refusal(plan: PlannedResource[]): string {
  try {
    translatePlan(plan, resolveAsIs);
  } catch (err) {
    if (err instanceof ReplayError) return err.message;
    throw err;
  }
  throw new Error("the replay accepted the plan");
}

describe("translatePlan: the provider's conventions", () => {
  const steps = translatePlan([component, network, volume, image, container()], resolveAsIs);
  const step = containerStep(steps);

  it("creates the container as the provider would: MiB memory, bindings on the bind address, named volumes, first network with aliases", () => {
    expect(step.create).toMatchObject({
      Image: "local/redis:7.4",
      Cmd: ["redis-server", "/usr/local/etc/redis/redis.conf"],
      Env: ["A=1"],
      Hostname: "bp-t-redis-0",
      User: "999:999",
      Labels: { "io.botplatform.stage": "t" },
      ExposedPorts: { "6379/tcp": {} },
      StopSignal: "SIGTERM",
      StopTimeout: 30,
      HostConfig: {
        Memory: 128 * 1024 * 1024,
        PortBindings: { "6379/tcp": [{ HostIp: "127.0.0.1", HostPort: "16379" }] },
        Binds: ["bp-t-redis-0-data:/data"],
        RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
        NetworkMode: "bp-t-net",
      },
      NetworkingConfig: { EndpointsConfig: { "bp-t-net": { Aliases: ["bp-t-redis-0"] } } },
    });
  });

  it("turns health check durations into nanoseconds", () => {
    expect(step.create.Healthcheck).toEqual({ Test: ["CMD", "redis-cli", "ping"], Interval: 5e9, Timeout: 90e9, StartPeriod: 5e8, Retries: 12 });
  });

  it("uploads with the given mode and owner, else 0644 (0744 when executable), as root", () => {
    expect(step.uploads.map((u) => ({ path: u.path, mode: u.mode.toString(8), uid: u.uid, gid: u.gid, content: u.content.toString() }))).toEqual([
      { path: "/usr/local/etc/redis/redis.conf", mode: "644", uid: 0, gid: 0, content: "port 6379\n" },
      { path: "/run/secrets/redis/password", mode: "400", uid: 999, gid: 999, content: "pw" },
      { path: "/x/run.sh", mode: "744", uid: 0, gid: 0, content: "echo hi\n" },
    ]);
  });

  it("keeps wait, attach and mustRun with the provider's defaults", () => {
    expect({ wait: step.wait, timeout: step.waitTimeoutSeconds, attach: step.attach, mustRun: step.mustRun, start: step.start }).toEqual({ wait: true, timeout: 120, attach: false, mustRun: true, start: true });
    const task = containerStep(translatePlan([network, container({ wait: undefined, waitTimeout: undefined, attach: true, mustRun: false, healthcheck: undefined }, ["bp-t-net", "bp-t-redis-0-data"]), volume], resolveAsIs));
    expect({ wait: task.wait, timeout: task.waitTimeoutSeconds, attach: task.attach, mustRun: task.mustRun }).toEqual({ wait: false, timeout: 60, attach: true, mustRun: false });
  });

  it("keeps each resource's dependencies and makes components, images and generated passwords no-ops or checks", () => {
    expect(steps.map((s) => [s.resource, s.kind])).toEqual([
      ["bp-t-redis", "noop"],
      ["bp-t-net", "network"],
      ["bp-t-redis-0-data", "volume"],
      ["bp-t-redis-image", "image"],
      ["bp-t-redis-0", "container"],
    ]);
    expect(step.dependsOn).toEqual(["bp-t-net", "bp-t-redis-0-data", "bp-t-redis-image"]);
  });
});

describe("translatePlan refuses what it does not understand, naming it", () => {
  it.each([
    ["an unknown resource type", [{ type: "kubernetes:core/v1:Namespace", name: "ns", inputs: {} }], "ns: resource type kubernetes:core/v1:Namespace is not supported"],
    ["an unknown container input", [network, volume, image, container({ privileged: true })], "input `privileged` is not supported"],
    ["an unknown nested input", [network, volume, image, container({ uploads: [{ file: "/a", source: "/etc/passwd" }] })], "input `uploads[0].source` is not supported"],
    ["an owner by name", [network, volume, image, container({ uploads: [{ file: "/a", content: "x", owner: "redis" }] })], "input `uploads[0].owner`: must be a numeric id"],
    ["an upload with two contents", [network, volume, image, container({ uploads: [{ file: "/a", content: "x", contentBase64: "eA==" }] })], "exactly one of `content` and `contentBase64`"],
    ["a bad duration", [network, volume, image, container({ healthcheck: { tests: ["CMD", "true"], interval: "5 seconds" } })], "input `healthcheck.interval`: must be a Go duration"],
    ["a host path volume", [network, volume, image, container({ volumes: [{ hostPath: "/etc", containerPath: "/x" }] })], "input `volumes[0].hostPath` is not supported"],
    ["a component with inputs", [{ ...component, inputs: { size: 3 } }], "component botplatform:redis:RedisTier has inputs (size)"],
    ["a dependency missing from the plan", [network, volume, container()], "bp-t-redis-0: depends on bp-t-redis-image, which the plan does not hold"],
    ["a network used without depending on it", [network, volume, image, container({}, ["bp-t-redis-0-data", "bp-t-redis-image"])], "bp-t-redis-0 uses network bp-t-net but does not depend on bp-t-net"],
    ["a volume used without depending on it", [network, volume, image, container({}, ["bp-t-net", "bp-t-redis-image"])], "bp-t-redis-0 uses volume bp-t-redis-0-data but does not depend on bp-t-redis-0-data"],
  ] as [string, PlannedResource[], string][])("%s", (_what, plan, message) => {
    expect(refusal(plan)).toContain(message);
  });

  it("lists every problem of a resource at once", () => {
    const message = refusal([network, volume, image, container({ privileged: true, tty: true })]);
    expect(message).toContain("`privileged`");
    expect(message).toContain("`tty`");
  });

  it("passes the image resolver's refusal through", () => {
    expect(() =>
      translatePlan([network, volume, image, container()], () => {
        throw new ReplayError("no test image for redis:7.4");
      }),
    ).toThrow("no test image for redis:7.4");
  });
});

describe("nanoseconds", () => {
  it.each([
    ["5s", 5e9],
    ["1m30s", 90e9],
    ["500ms", 5e8],
    ["1h", 3600e9],
    ["250us", 250e3],
  ])("%s", (duration, ns) => expect(nanoseconds(duration)).toBe(ns));
});

describe("the real Docker stages' plans", () => {
  it.each(["local", "dev", "ci"])("%s: every resource and input is understood, every image has a contract", async (stage) => {
    const { resources, outputs } = await loadStage(stage);
    const images: string[] = [];
    translatePlan(resources, (image) => {
      images.push(image);
      return `test/${contractOf(image) ?? "NONE"}`;
    });
    expect(images.length).toBeGreaterThan(0);
    expect(images.filter((image) => contractOf(image) === undefined)).toEqual([]);
    // The replay needs the endpoints with their secret values, not the mask.
    expect(outputs.endpoints).toMatchObject({ version: 1, stage });
  }, 60_000);
});
