/**
 * Runs replay steps (translate.ts) against a Docker Engine the way Pulumi runs a plan: every step
 * starts as soon as the steps it depends on are done, independent steps in parallel. A container is
 * created, given its uploads (`PUT /archive` before start, as the provider does), started, and then:
 * `attach` runs to completion and must exit 0; `wait` must turn healthy within its timeout; otherwise
 * it must be running. A failed step fails its dependents; the rest finish; then the replay throws
 * with every failure and the failing containers' last log lines.
 */
import { demuxLogs, DockerEngine, EngineError } from "../docker-engine/client.js";
import { tarArchive } from "../docker-engine/tar.js";
import { imageExists } from "../e2e-images/base.js";
import { ReplayError } from "./inputs.js";
import type { ContainerStep, ReplayStep } from "./translate.js";

/** How often health and run state are polled (the provider polls once a second too). */
const POLL_MS = 1_000;
/** How long a started container may take to be seen running (the provider's read refresh timeout). */
const RUNNING_TIMEOUT_MS = 15_000;
/** A started container must still be running this much later. */
const STARTUP_SETTLE_MS = 1_000;
/** An attached task gets this long to finish. */
const ATTACH_TIMEOUT_MS = 10 * 60_000;
const LOG_TAIL_LINES = 25;

export interface ReplayResult {
  /** Step resource name -> milliseconds from replay start to the step's end. */
  finishedAtMs: Record<string, number>;
  /** Container name -> engine id. */
  containers: Record<string, string>;
  /** Logs of the attached (init task) containers, by container name. */
  taskLogs: Record<string, string>;
}

export interface ReplayOptions {
  log?: (line: string) => void;
}

export async function applyReplay(engine: DockerEngine, steps: readonly ReplayStep[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const result: ReplayResult = { finishedAtMs: {}, containers: {}, taskLogs: {} };
  const byResource = new Map(steps.map((s) => [s.resource, s]));
  const done = new Map<string, Promise<void>>();
  const failures: string[] = [];

  const run = (step: ReplayStep): Promise<void> => {
    const existing = done.get(step.resource);
    if (existing) return existing;
    const promise = (async () => {
      const deps = await Promise.allSettled(step.dependsOn.map((d) => run(byResource.get(d)!)));
      if (deps.some((d) => d.status === "rejected")) throw new ReplayError(`${step.resource}: skipped, a dependency failed`);
      await applyStep(engine, step, result, log);
      result.finishedAtMs[step.resource] = Date.now() - started;
    })();
    promise.catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!message.endsWith("skipped, a dependency failed")) failures.push(message);
    });
    done.set(step.resource, promise);
    return promise;
  };
  detectCycles(steps);
  await Promise.allSettled(steps.map(run));
  if (failures.length > 0) throw new ReplayError(`replay failed:\n- ${failures.join("\n- ")}`);
  return result;
}

async function applyStep(engine: DockerEngine, step: ReplayStep, result: ReplayResult, log: (line: string) => void): Promise<void> {
  switch (step.kind) {
    case "noop":
      return;
    case "image":
      if (!(await imageExists(engine, step.image))) throw new ReplayError(`${step.resource}: image ${step.image} is not on the engine`);
      return;
    case "network":
      await engine.call({ method: "POST", path: "/networks/create", json: step.create });
      log(`network ${step.name}`);
      return;
    case "volume":
      await engine.call({ method: "POST", path: "/volumes/create", json: step.create });
      return;
    case "container":
      await applyContainer(engine, step, result, log);
  }
}

async function applyContainer(engine: DockerEngine, step: ContainerStep, result: ReplayResult, log: (line: string) => void): Promise<void> {
  const { Id: id } = await engine.json<{ Id: string }>({ method: "POST", path: "/containers/create", query: { name: step.name }, json: step.create });
  result.containers[step.name] = id;
  for (const { network, aliases } of step.connect) {
    await engine.call({ method: "POST", path: `/networks/${encodeURIComponent(network)}/connect`, json: { Container: id, EndpointConfig: { Aliases: aliases } } });
  }
  for (const upload of step.uploads) {
    const archive = tarArchive([{ path: upload.path, content: upload.content, mode: upload.mode, uid: upload.uid, gid: upload.gid }]);
    await engine.call({ method: "PUT", path: `/containers/${id}/archive`, query: { path: "/" }, body: archive, contentType: "application/x-tar" });
  }
  if (!step.start) return;
  const startedAt = Date.now();
  await engine.call({ method: "POST", path: `/containers/${id}/start` });
  if (step.attach) {
    const { StatusCode: code } = await engine.json<{ StatusCode: number }>({ method: "POST", path: `/containers/${id}/wait`, timeoutMs: ATTACH_TIMEOUT_MS });
    const logs = await containerLogs(engine, id);
    result.taskLogs[step.name] = logs;
    if (code !== 0) throw new ReplayError(`${step.resource}: task ${step.name} exited ${code}:\n${tail(logs)}`);
    log(`task ${step.name} exited 0 after ${seconds(Date.now() - startedAt)}`);
    return;
  }
  if (step.wait) {
    await waitHealthy(engine, step, id, startedAt);
    log(`${step.name} healthy after ${seconds(Date.now() - startedAt)}`);
  } else if (step.mustRun) {
    await waitRunning(engine, step, id);
  }
}

interface Inspect {
  State: { Running: boolean; Status: string; ExitCode: number; Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] } };
}

/** The provider's `wait`: poll until healthy; unhealthy may still recover, so only the timeout fails. */
async function waitHealthy(engine: DockerEngine, step: ContainerStep, id: string, startedAt: number): Promise<void> {
  if (step.create.Healthcheck === undefined) throw new ReplayError(`${step.resource}: \`wait\` needs a health check (the provider refuses it too)`);
  const deadline = startedAt + step.waitTimeoutSeconds * 1000;
  for (;;) {
    const state = (await engine.json<Inspect>({ method: "GET", path: `/containers/${id}/json` })).State;
    if (state.Health?.Status === "healthy") return;
    // An exited or unhealthy container may still come back (restart policy): the deadline decides.
    if (Date.now() >= deadline) {
      const last = state.Health?.Log?.at(-1);
      throw new ReplayError(
        `${step.resource}: ${step.name} not healthy within ${step.waitTimeoutSeconds} s (state ${state.Status}, health ${state.Health?.Status ?? "none"}` +
          `${last ? `, last check exit ${last.ExitCode}: ${last.Output.trim().slice(0, 300)}` : ""}):\n${tail(await containerLogs(engine, id))}`,
      );
    }
    await sleep(POLL_MS);
  }
}

async function waitRunning(engine: DockerEngine, step: ContainerStep, id: string): Promise<void> {
  const deadline = Date.now() + RUNNING_TIMEOUT_MS;
  let seenRunning = false;
  for (;;) {
    const state = (await engine.json<Inspect>({ method: "GET", path: `/containers/${id}/json` })).State;
    // A process that dies at once can still be seen running on the first look: look again after a
    // moment, so a crash at start fails here rather than depending on the poll's timing.
    if (state.Running && seenRunning) return;
    if (state.Running) {
      seenRunning = true;
      await sleep(STARTUP_SETTLE_MS);
      continue;
    }
    if (state.Status === "exited" || Date.now() >= deadline) {
      throw new ReplayError(`${step.resource}: ${step.name} is not running (${state.Status}, exit ${state.ExitCode}):\n${tail(await containerLogs(engine, id))}`);
    }
    await sleep(POLL_MS / 10);
  }
}

export async function containerLogs(engine: DockerEngine, id: string): Promise<string> {
  try {
    const { body } = await engine.call({ method: "GET", path: `/containers/${id}/logs`, query: { stdout: true, stderr: true } });
    return demuxLogs(body);
  } catch (err) {
    if (err instanceof EngineError) return `(no logs: ${err.message})`;
    throw err;
  }
}

function detectCycles(steps: readonly ReplayStep[]): void {
  const byResource = new Map(steps.map((s) => [s.resource, s]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new ReplayError(`dependency cycle: ${[...path, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const dep of byResource.get(name)?.dependsOn ?? []) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const step of steps) visit(step.resource, []);
}

function tail(text: string): string {
  return text.trimEnd().split("\n").slice(-LOG_TAIL_LINES).map((l) => `    ${l}`).join("\n");
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
