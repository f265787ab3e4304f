/**
 * Runs the selected tiers' probes in parallel under one deadline. Per tier it retries with backoff
 * while the probe says `NotReadyError` (brokers still starting after a deploy), stops at the deadline
 * and, if a probe overruns it, aborts the probe and still reports the steps it finished.
 *
 * Time is injectable (`clock`, `random`) so the retry/deadline logic is unit-tested without waiting.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as realSleep } from "node:timers/promises";
import { presentTiers, type Endpoints, type TierName } from "./endpoints.js";
import { NotReadyError, worstVerdict, type Probe, type ProbeContext, type StepResult, type TierResult, type Verdict } from "./probe.js";
import { probes as registeredProbes } from "./registry.js";
import { errorMessage } from "./steps.js";

export const DEFAULT_DEADLINE_MS = 60 * 1000; // 60 s
export const BACKOFF_INITIAL_MS = 250;
export const BACKOFF_MAX_MS = 5 * 1000; // 5 s
/** No new attempt is started with less than this left: it could not connect and finish anyway. */
export const MIN_ATTEMPT_MS = 500;
/** After the deadline aborts a probe, how long it gets to close its connections and report. */
export const ABORT_GRACE_MS = 2 * 1000; // 2 s

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => realSleep(ms, undefined, { signal }).catch(() => undefined),
};

export interface RunEvents {
  onTierStart?: (tier: TierName) => void;
  /** A probe attempt found its tier not ready; the next attempt starts in `retryInMs`. */
  onNotReady?: (tier: TierName, attempt: number, reason: string, retryInMs: number) => void;
  onStep?: (tier: TierName, step: StepResult) => void;
  onTierDone?: (result: TierResult) => void;
}

export interface RunOptions extends RunEvents {
  endpoints: Endpoints;
  /** @default every tier present in `endpoints` */
  tiers?: readonly TierName[];
  /** @default DEFAULT_DEADLINE_MS */
  deadlineMs?: number;
  /** Degraded counts as fail in the run's verdict. @default false */
  strict?: boolean;
  /** @default the registry in `registry.ts` */
  probes?: ReadonlyMap<TierName, Probe>;
  /** @default systemClock */
  clock?: Clock;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** Cancels the whole run (e.g. Ctrl-C); tiers end as `fail` with reason `aborted`. */
  signal?: AbortSignal;
  /** @default newRunId() */
  runId?: string;
}

export interface RunResult {
  runId: string;
  stage: string;
  /** Worst tier verdict; with `strict`, `degraded` becomes `fail`. */
  verdict: Verdict;
  strict: boolean;
  deadlineMs: number;
  tiers: TierResult[];
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
}

/** `bp-smoke-<base36 ms>-<8 hex>`: unique across concurrent runs; every probe object name derives from it. */
export function newRunId(now = Date.now()): string {
  return `bp-smoke-${now.toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** Exponential backoff with jitter: 250 ms doubling to a 5 s cap, each delay drawn from [base/2, base). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

const humanDuration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

interface TierRun {
  tier: TierName;
  probe: Probe | undefined;
  deadline: number;
  deadlineMs: number;
  clock: Clock;
  random: () => number;
  base: Omit<ProbeContext, "signal" | "onStep">;
  events: RunEvents;
  signal?: AbortSignal;
}

async function runTier(run: TierRun): Promise<TierResult> {
  const { tier, probe, clock, events } = run;
  const started = clock.now();
  const finish = (result: Omit<TierResult, "durationMs">): TierResult => ({ ...result, durationMs: clock.now() - started });
  const failWith = (attempts: number, steps: StepResult[], step: string, reason: string): TierResult =>
    finish({ tier, verdict: "fail", reason, steps: [...steps, { name: step, verdict: "fail", durationMs: clock.now() - started, detail: reason }], attempts });

  if (probe === undefined) return failWith(0, [], "probe", `no probe for tier ${tier}`);
  if (run.base.endpoints[tier] === undefined) return failWith(0, [], "endpoints", `endpoints have no \`${tier}\` block`);

  // One controller per tier: the deadline or the caller's signal aborts the probe in flight.
  const controller = new AbortController();
  const guard = setTimeout(() => controller.abort(new Error("deadline")), Math.max(0, run.deadline - clock.now()));
  const onOuterAbort = (): void => controller.abort(new Error("aborted"));
  run.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (run.signal?.aborted) onOuterAbort();
  const stopReason = (): string => (run.signal?.aborted ? "aborted" : `deadline of ${humanDuration(run.deadlineMs)} passed`);
  // Created once per tier: a listener per attempt would pile up on the signal.
  const aborted = new Promise<"aborted">((resolve) => {
    if (controller.signal.aborted) resolve("aborted");
    controller.signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });

  let lastNotReady: string | undefined;
  const giveUp = (attempts: number, steps: StepResult[]): TierResult => {
    const plural = attempts === 1 ? "" : "s";
    const why = run.signal?.aborted || lastNotReady === undefined ? stopReason() : `not ready within ${humanDuration(run.deadlineMs)} (${attempts} attempt${plural})`;
    return failWith(attempts, steps, "ready", lastNotReady === undefined ? why : `${why}: ${lastNotReady}`);
  };

  try {
    for (let attempt = 1; ; attempt++) {
      if (controller.signal.aborted) return giveUp(attempt - 1, []);
      const steps: StepResult[] = [];
      const ctx: ProbeContext = {
        ...run.base,
        signal: controller.signal,
        onStep: (t, step) => {
          steps.push(step);
          events.onStep?.(t, step);
        },
      };
      const pending = probe(ctx).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      let outcome = await Promise.race([pending, aborted]);
      if (outcome === "aborted") {
        // Give the probe a moment to close its connections and report its own, more specific failure.
        const grace = new AbortController();
        outcome = await Promise.race([pending, realSleep(ABORT_GRACE_MS, "aborted" as const, { signal: grace.signal })]);
        grace.abort();
        if (outcome === "aborted") return failWith(attempt, steps, "deadline", `${stopReason()} during the probe`);
      }
      if (outcome.ok) return finish({ ...outcome.result, attempts: attempt });
      if (!(outcome.error instanceof NotReadyError)) return failWith(attempt, steps, "probe", errorMessage(outcome.error));
      lastNotReady = errorMessage(outcome.error);
      const wait = Math.min(backoffDelay(attempt, run.random), run.deadline - clock.now() - MIN_ATTEMPT_MS);
      if (wait < 0 || controller.signal.aborted) return giveUp(attempt, steps);
      events.onNotReady?.(tier, attempt, lastNotReady, wait);
      await clock.sleep(wait, controller.signal);
    }
  } finally {
    clearTimeout(guard);
    run.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** Runs the smoke checks; never throws for a broker problem (that is a `fail` verdict). */
export async function runSmoke(options: RunOptions): Promise<RunResult> {
  const clock = options.clock ?? systemClock;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const strict = options.strict ?? false;
  const probes = options.probes ?? registeredProbes;
  const tiers = options.tiers ?? presentTiers(options.endpoints);
  const startedAt = clock.now();
  const runId = options.runId ?? newRunId(startedAt);
  const deadline = startedAt + deadlineMs;
  const base = { runId, deadline, now: () => clock.now(), endpoints: options.endpoints };

  const results = await Promise.all(
    tiers.map(async (tier) => {
      options.onTierStart?.(tier);
      const result = await runTier({
        tier,
        probe: probes.get(tier),
        deadline,
        deadlineMs,
        clock,
        random: options.random ?? Math.random,
        base,
        events: options,
        signal: options.signal,
      });
      options.onTierDone?.(result);
      return result;
    }),
  );

  const worst = worstVerdict(results.map((r) => r.verdict));
  return {
    runId,
    stage: options.endpoints.stage,
    verdict: strict && worst === "degraded" ? "fail" : worst,
    strict,
    deadlineMs,
    tiers: results,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: clock.now() - startedAt,
  };
}
