/**
 * Starts real broker processes for tests and always cleans them up. Generic: every tier's harness
 * (redis.ts, and later nats/kafka/rabbitmq) builds on `startProcess`.
 *
 * - Each process gets its own temp dir (config, data, `<name>.log` with stdout+stderr).
 * - `ready` is polled until it returns true; if the process exits first or the timeout passes, the
 *   start rejects with the log's tail, so a broker that cannot start says why.
 * - `stop()` sends SIGTERM, then SIGKILL after a grace period, then removes the temp dir.
 * - Anything still running when the test worker exits is SIGKILLed (no orphaned brokers).
 *
 * Set BP_KEEP_HARNESS_DIRS=1 to keep temp dirs (with logs) for debugging.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const DEFAULT_READY_TIMEOUT_MS = 20 * 1000; // 20 s: brokers on a busy 2-core CI box
export const DEFAULT_POLL_INTERVAL_MS = 50;
export const DEFAULT_STOP_GRACE_MS = 5 * 1000; // 5 s of SIGTERM before SIGKILL
const LOG_TAIL_LINES = 20;

export interface StartProcessOptions {
  /** Short name used for the temp dir, the log file and error messages, e.g. `redis-primary`. */
  name: string;
  command: string;
  args?: readonly string[];
  /** Temp dir to use (created by `makeTempDir`); a fresh one is created when absent. */
  dir?: string;
  /** Working directory; defaults to the temp dir. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Polled until it returns true. Throwing counts as "not ready yet". */
  ready: (proc: ManagedProcess) => Promise<boolean>;
  /** @default DEFAULT_READY_TIMEOUT_MS */
  readyTimeoutMs?: number;
  /** @default DEFAULT_POLL_INTERVAL_MS */
  pollIntervalMs?: number;
  /** @default DEFAULT_STOP_GRACE_MS */
  stopGraceMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** True once the process has exited (by itself or by `stop`). */
  readonly exited: boolean;
  /** The captured stdout+stderr so far. */
  logs(): string;
  /** SIGTERM, then SIGKILL after the grace period; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

type LiveSet = Set<{ child: ChildProcess; dir: string }>;
const keepDirs = (): boolean => process.env.BP_KEEP_HARNESS_DIRS === "1";

// One registry and one exit hook per process, even when a test runner loads this module many times.
const LIVE_KEY = Symbol.for("botplatform.harness.liveProcesses");
const registry = globalThis as typeof globalThis & { [LIVE_KEY]?: LiveSet };
const live: LiveSet = (registry[LIVE_KEY] ??= (() => {
  const set: LiveSet = new Set();
  // Last resort when a test forgets stop() or the worker is torn down: no broker outlives the worker.
  process.once("exit", () => {
    for (const { child, dir } of set) {
      child.kill("SIGKILL");
      if (!keepDirs()) rmSync(dir, { recursive: true, force: true });
    }
  });
  return set;
})());

/** A fresh temp dir `bp-<name>-XXXXXX` under the OS temp dir. */
export function makeTempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `bp-${name}-`));
}

function tail(text: string): string {
  return text.trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
}

export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const dir = options.dir ?? makeTempDir(options.name);
  const logFile = join(dir, `${options.name}.log`);
  const logFd = openSync(logFile, "a");
  const child = spawn(options.command, [...(options.args ?? [])], {
    cwd: options.cwd ?? dir,
    env: options.env ?? process.env,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd); // the child holds its own copy
  const entry = { child, dir };
  live.add(entry);

  let exited = false;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
    child.once("error", (err) => {
      spawnError = err; // e.g. ENOENT: the binary is not installed
      exited = true;
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const logs = (): string => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill("SIGTERM");
        // The grace timer is cancelled on a clean exit, so it never holds the event loop open.
        const grace = new AbortController();
        const graceful = await Promise.race([
          exitPromise.then(() => true),
          sleep(options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false),
        ]);
        grace.abort();
        if (!graceful) {
          child.kill("SIGKILL");
          await exitPromise;
        }
      }
      live.delete(entry);
      if (!keepDirs()) rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const proc: ManagedProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    dir,
    logFile,
    child,
    get exited() {
      return exited;
    },
    logs,
    stop,
  };

  const readyBy = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  for (;;) {
    if (exited) {
      const why = spawnError ? `could not start ${options.command}: ${spawnError.message}` : `exited with code ${String(child.exitCode)}`;
      const log = logs(); // read before stop() removes the dir
      await stop();
      throw new Error(`${options.name} ${why}\n${tail(log)}`);
    }
    if (await options.ready(proc).catch(() => false)) return proc;
    if (Date.now() > readyBy) {
      const log = logs();
      await stop();
      throw new Error(`${options.name} not ready within ${options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS} ms\n${tail(log)}`);
    }
    await sleep(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }
}

/**
 * Retries a start that can lose a port race (another process bound the port between `freePort` and
 * the broker's bind). Each attempt must pick fresh ports.
 */
export async function withStartRetries<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await start();
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
