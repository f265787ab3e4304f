/**
 * Docker end to end: the `ci` stage's plan (the real program under Pulumi's mocks) replayed on a real
 * Docker Engine with the registry-free test images, and a second environment (`ci-e2e2`, other host
 * ports) replayed beside it on the same engine. Every tier must form (health checks, init tasks exit
 * 0), the smoke CLI must pass both, stopping one node of each clustered tier must turn every tier
 * `degraded` while the other environment still passes, and teardown must leave nothing with either
 * stage label. Needs a running engine (scripts/install/docker.sh); skipped when there is no socket.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_LABEL_STAGE, DOCKER_LABEL_TIER } from "../../components/targets/docker.js";
import { DockerEngine, socketFromEnv } from "../../ops/docker-engine/client.js";
import { readBuiltImages } from "../../ops/e2e-images/build.js";
import { applyReplay, type ReplayResult } from "../../ops/replay/apply.js";
import { loadStage, testImageResolver, type LoadedStage } from "../../ops/replay/load.js";
import { leftovers, teardownStage } from "../../ops/replay/teardown.js";
import { translatePlan, type ContainerStep, type ReplayStep } from "../../ops/replay/translate.js";
import { copyStageWithPorts, inspectContainer, REPO_ROOT, runSmoke, SECOND_ENV_PORTS, sleep, stopContainer, verdicts, type SmokeRun } from "./support.js";

const run = promisify(execFile);
const SOCKET = socketFromEnv();
const STAGE = "ci";
const SECOND = "ci-e2e2";
const TIERS = ["redis", "nats", "kafka", "rabbitmq"];
/** A cold image build (debootstrap, apt, a JRE) takes minutes; a cached one a second. */
const SETUP_TIMEOUT_MS = 25 * 60_000;
/** After a node stops, its cluster re-elects (KRaft controller, JetStream meta leader): smoke again until it settles. */
const SETTLE_ATTEMPTS = 4;
const SETTLE_PAUSE_MS = 10_000;

interface Env {
  stage: string;
  loaded: LoadedStage;
  steps: ReplayStep[];
  result?: ReplayResult;
  endpointsFile: string;
  replayMs?: number;
}

const containerSteps = (env: Env) => env.steps.filter((s): s is ContainerStep => s.kind === "container");
const brokerNodes = (env: Env, tier: string) => containerSteps(env).filter((s) => !s.attach && (s.create.Labels as Record<string, string>)[DOCKER_LABEL_TIER] === tier);

describe.skipIf(!existsSync(SOCKET))(`Docker e2e: the ${STAGE} stage replayed on a real engine (${SOCKET})`, () => {
  const engine = new DockerEngine(SOCKET);
  const work = mkdtempSync(join(tmpdir(), "bp-e2e-"));
  const figures: Record<string, unknown> = {};
  const envs: Env[] = [];
  let ci: Env;
  let second: Env;

  beforeAll(async () => {
    if (!(await engine.ping())) throw new Error(`${SOCKET} exists but no engine answers: start it with scripts/install/docker.sh`);
    let t = Date.now();
    await run("bash", [join(REPO_ROOT, "scripts", "e2e", "build-images.sh")], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    figures.imagesMs = Date.now() - t;
    const resolveImage = testImageResolver(readBuiltImages());
    // A run killed half-way leaves its containers behind: start clean.
    await Promise.all([teardownStage(engine, STAGE), teardownStage(engine, SECOND)]);

    t = Date.now();
    const secondFile = copyStageWithPorts(STAGE, SECOND, SECOND_ENV_PORTS);
    const [ciLoaded, secondLoaded] = await Promise.all([loadStage(STAGE), loadStage(secondFile)]);
    figures.planCaptureMs = Date.now() - t;
    ci = { stage: STAGE, loaded: ciLoaded, steps: translatePlan(ciLoaded.resources, resolveImage), endpointsFile: join(work, `${STAGE}.endpoints.json`) };
    second = { stage: SECOND, loaded: secondLoaded, steps: translatePlan(secondLoaded.resources, resolveImage), endpointsFile: join(work, `${SECOND}.endpoints.json`) };
    envs.push(ci, second);
    for (const env of envs) writeFileSync(env.endpointsFile, JSON.stringify(env.loaded.outputs.endpoints), { mode: 0o600 });

    // One after the other, the second beside the running first: replayed at the same time, the six
    // JVMs and six Erlang VMs on two cores took Kafka to 164-169 s of its 180 s `waitTimeout`.
    for (const env of envs) {
      const started = Date.now();
      env.result = await applyReplay(engine, env.steps, { log: (line) => process.stderr.write(`[replay ${env.stage}] ${line}\n`) });
      env.replayMs = Date.now() - started;
    }
    figures.replay = Object.fromEntries(envs.map((env) => [env.stage, { totalMs: env.replayMs, finishedAtMs: env.result?.finishedAtMs }]));
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    const t = Date.now();
    await Promise.all([teardownStage(engine, STAGE), teardownStage(engine, SECOND)]);
    figures.teardownMs = Date.now() - t;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(REPO_ROOT, "reports", "e2e"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "reports", "e2e", "docker-ci.json"), `${JSON.stringify(figures, null, 2)}\n`);
  }, 180_000);

  it("creates every container of the plan: broker nodes running and healthy, init tasks exited 0", async () => {
    for (const env of envs) {
      const planned = containerSteps(env);
      expect(Object.keys(env.result!.containers).sort()).toEqual(planned.map((s) => s.name).sort());
      for (const tier of TIERS) expect(brokerNodes(env, tier).length, `${env.stage} ${tier} nodes`).toBeGreaterThan(0);
      for (const step of planned) {
        const state = await inspectContainer(engine, step.name);
        expect(state.labels[DOCKER_LABEL_STAGE]).toBe(env.stage);
        expect(state.networks).toEqual([`bp-${env.stage}-net`]);
        if (step.attach) expect({ name: step.name, status: state.status, exit: state.exitCode }).toEqual({ name: step.name, status: "exited", exit: 0 });
        else expect({ name: step.name, status: state.status, health: state.health }).toEqual({ name: step.name, status: "running", health: "healthy" });
      }
    }
    // The stage the brief names: redis primary + replica, and 3-node NATS, Kafka and RabbitMQ clusters.
    expect(TIERS.map((tier) => brokerNodes(ci, tier).length)).toEqual([2, 3, 3, 3]);
  });

  it("the smoke CLI passes every tier of both environments on their endpoints", async () => {
    const runs = await Promise.all(envs.map((env) => runSmoke(env.endpointsFile, join(work, `${env.stage}.pass.json`))));
    figures.smokePassMs = Object.fromEntries(runs.map((r, i) => [envs[i]!.stage, r.durationMs]));
    for (const [i, smoke] of runs.entries()) {
      expect(verdicts(smoke), `${envs[i]!.stage}:\n${smoke.output}`).toEqual(Object.fromEntries(TIERS.map((t) => [t, "pass"])));
      expect(smoke.code).toBe(0);
    }
  });

  it("the second environment shares no name and no host port with the first", async () => {
    const [a, b] = await Promise.all(envs.map((env) => leftovers(engine, env.stage)));
    for (const kind of ["containers", "networks", "volumes"] as const) {
      expect(a![kind].length, kind).toBeGreaterThan(0);
      expect(b![kind].length, kind).toBe(a![kind].length);
      expect(a![kind].filter((name) => b![kind].includes(name)), kind).toEqual([]);
    }
    const hostPorts = (env: Env) => containerSteps(env).flatMap((s) => Object.values((s.create.HostConfig as { PortBindings?: Record<string, { HostPort: string }[]> }).PortBindings ?? {}).flat().map((p) => p.HostPort));
    expect(hostPorts(ci).filter((port) => hostPorts(second).includes(port))).toEqual([]);
  });

  it("one node of each clustered tier stopped: every tier degraded, the other environment still passes", async () => {
    const stopped = TIERS.map((tier) => brokerNodes(ci, tier).map((s) => s.name).sort().at(-1)!);
    let t = Date.now();
    await Promise.all(stopped.map((name) => stopContainer(engine, name)));
    figures.stopMs = Date.now() - t;
    for (const name of stopped) expect((await inspectContainer(engine, name)).status, name).toBe("exited");

    t = Date.now();
    const attempts: Record<string, string>[] = [];
    let smoke: SmokeRun | undefined;
    for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
      smoke = await runSmoke(ci.endpointsFile, join(work, `${STAGE}.degraded-${attempt}.json`));
      attempts.push(verdicts(smoke));
      if (smoke.tiers.every((tier) => tier.verdict === "degraded")) break;
      await sleep(SETTLE_PAUSE_MS);
    }
    figures.degraded = { stopped, attempts, settleMs: Date.now() - t, reasons: Object.fromEntries(smoke!.tiers.map((tier) => [tier.tier, tier.reason])) };
    expect(verdicts(smoke!), smoke!.output).toEqual(Object.fromEntries(TIERS.map((tier) => [tier, "degraded"])));
    // Degraded still passes unless --strict.
    expect(smoke!.code).toBe(0);
    // Each says what is missing: the stopped node by name where the probe can see it, else the count.
    const reasons = Object.fromEntries(smoke!.tiers.map((r) => [r.tier, r.reason ?? ""]));
    expect(reasons.redis).toMatch(/1 of 1 expected replica missing/);
    expect(reasons.nats).toContain(`${stopped[1]} down`);
    expect(reasons.kafka).toMatch(/2\/3 brokers/);
    expect(reasons.rabbitmq).toContain(`${stopped[3]} is down`);

    const other = await runSmoke(second.endpointsFile, join(work, `${SECOND}.while-ci-degraded.json`));
    expect(verdicts(other), other.output).toEqual(Object.fromEntries(TIERS.map((tier) => [tier, "pass"])));
  });

  it("teardown by the stage label leaves no container, network or volume of either environment", async () => {
    const t = Date.now();
    for (const env of envs) await teardownStage(engine, env.stage);
    figures.teardownTestMs = Date.now() - t;
    for (const env of envs) expect(await leftovers(engine, env.stage), env.stage).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
