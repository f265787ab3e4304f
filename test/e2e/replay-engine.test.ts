/**
 * The replay's own checks on a real engine, with tiny containers on the e2e base image: a failing
 * init task, a container that dies at once, one that never turns healthy, and a failed dependency
 * must each fail the replay with the reason; uploads must land with their mode and owner. Without
 * this, a replay that never failed would prove nothing. Skipped when there is no engine socket.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerEngine, socketFromEnv } from "../../ops/docker-engine/client.js";
import { readBuiltImages } from "../../ops/e2e-images/build.js";
import { applyReplay } from "../../ops/replay/apply.js";
import { ReplayError } from "../../ops/replay/inputs.js";
import { leftovers, teardownStage } from "../../ops/replay/teardown.js";
import { translatePlan } from "../../ops/replay/translate.js";
import type { PlannedResource } from "../../tools/plan/capture.js";

const SOCKET = socketFromEnv();
const STAGE = "e2e-replay-selftest";
const labels = [{ label: "io.botplatform.stage", value: STAGE }];
const net: PlannedResource = { type: "docker:index/network:Network", name: `${STAGE}-net`, inputs: { name: `bp-${STAGE}-net`, labels } };

function container(name: string, inputs: Record<string, unknown>, dependsOn: string[] = [net.name]): PlannedResource {
  return { type: "docker:index/container:Container", name, dependsOn, inputs: { name: `bp-${STAGE}-${name}`, image: "debian:bookworm", labels, networksAdvanced: [{ name: `bp-${STAGE}-net` }], ...inputs } };
}

describe.skipIf(!existsSync(SOCKET))("the replay on a real engine reports what goes wrong", () => {
  const engine = new DockerEngine(SOCKET);
  let base: string;
  // Every test container runs the debootstrap base image.
  const replay = (plan: PlannedResource[]) => applyReplay(engine, translatePlan(plan, () => base));
  const failure = async (plan: PlannedResource[]): Promise<string> => {
    await teardownStage(engine, STAGE);
    try {
      await replay(plan);
    } catch (err) {
      if (err instanceof ReplayError) return err.message;
      throw err;
    }
    throw new Error("the replay succeeded");
  };

  beforeAll(async () => {
    base = readBuiltImages().base;
    await teardownStage(engine, STAGE);
  });
  afterAll(async () => {
    await teardownStage(engine, STAGE);
  });

  it("an init task that exits non-zero fails with its exit code and output", async () => {
    const message = await failure([net, container("task", { command: ["sh", "-c", "echo provisioning went wrong; exit 3"], attach: true, mustRun: false })]);
    expect(message).toContain("task bp-e2e-replay-selftest-task exited 3");
    expect(message).toContain("provisioning went wrong");
  });

  it("a container that exits at once is not running", async () => {
    const message = await failure([net, container("dies", { command: ["sh", "-c", "echo bad config; exit 1"] })]);
    expect(message).toContain("bp-e2e-replay-selftest-dies is not running (exited, exit 1)");
    expect(message).toContain("bad config");
  });

  it("a container that never turns healthy fails `wait` at its timeout, with the last check's output", async () => {
    const message = await failure([
      net,
      container("sick", { command: ["sleep", "60"], healthcheck: { tests: ["CMD", "sh", "-c", "echo not ready; exit 1"], interval: "1s", timeout: "1s", retries: 1 }, wait: true, waitTimeout: 4 }),
    ]);
    expect(message).toMatch(/bp-e2e-replay-selftest-sick not healthy within 4 s \(state running, health (unhealthy|starting)/);
    expect(message).toContain("not ready");
  }, 30_000);

  it("a failed dependency keeps its dependents from being created", async () => {
    await failure([net, container("first", { command: ["sh", "-c", "exit 1"] }), container("second", { command: ["sleep", "60"] }, [net.name, "first"])]);
    expect((await leftovers(engine, STAGE)).containers).toEqual(["bp-e2e-replay-selftest-first"]);
  });

  it("uploads land before start with their mode and owner; a healthy `wait` passes and the task sees the network peer", async () => {
    await teardownStage(engine, STAGE);
    const result = await replay([
      net,
      container("peer", { command: ["sleep", "60"], healthcheck: { tests: ["CMD", "true"], interval: "1s", retries: 3 }, wait: true, waitTimeout: 20 }),
      container(
        "check",
        {
          command: ["sh", "-c", "stat -c '%a %u %g' /run/x/secret /etc/x/run.sh && cat /run/x/secret && getent hosts bp-e2e-replay-selftest-peer >/dev/null && echo peer-resolves"],
          uploads: [
            { file: "/run/x/secret", content: "s3cret", owner: "999", group: "998", permissions: "0400" },
            { file: "/etc/x/run.sh", content: "#!/bin/sh\n", executable: true },
          ],
          attach: true,
          mustRun: false,
        },
        [net.name, "peer"],
      ),
    ]);
    expect(result.taskLogs["bp-e2e-replay-selftest-check"]).toBe("400 999 998\n744 0 0\ns3cretpeer-resolves\n");
    await teardownStage(engine, STAGE);
    expect(await leftovers(engine, STAGE)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 60_000);
});
