/**
 * What every tier's probe shares: timed steps that become `StepResult`s, per-operation timeouts derived
 * from the run's deadline, and one-line error messages. A probe written with these never hangs past
 * its deadline and reports each step the moment it ends.
 */
import { performance } from "node:perf_hooks";
import type { TierName } from "./endpoints.js";
import { TimeoutError } from "./errors/timeout-error.js";
import { NotReadyError, worstVerdict, type ProbeContext, type StepResult, type TierResult, type Verdict } from "./probe.js";

/** What a step body returns: nothing or a detail string for `pass`, or an explicit verdict. */
export type StepOutcome = void | string | { verdict: Verdict; detail?: string };

/** Milliseconds left before the probe's deadline (never negative). */
export function remainingMs(ctx: Pick<ProbeContext, "deadline" | "now">): number {
  return Math.max(0, ctx.deadline - ctx.now());
}

/** The first line of an error's message (or of `String(value)`), for reasons shown to humans. */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? "").trim() || (err instanceof Error ? err.name : "unknown error");
}

/**
 * Settles like `op`, unless the deadline (or `capMs`, whichever is sooner) passes first — then rejects
 * with `TimeoutError(operation)` — or the run is aborted. The caller still owns closing whatever `op`
 * was using (a late reply is ignored, not leaked).
 */
export function withTimeout<T>(ctx: Pick<ProbeContext, "deadline" | "now" | "signal">, operation: string, op: Promise<T>, capMs = Infinity): Promise<T> {
  const timeoutMs = Math.min(remainingMs(ctx), capMs);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => finish(() => reject(new TimeoutError(operation, timeoutMs)));
    const timer = setTimeout(onAbort, timeoutMs);
    function finish(settle: () => void): void {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      settle();
    }
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    op.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

/**
 * Waits for a cleanup operation (DEL, queue delete, disconnect) for at most `timeoutMs`, ignoring its
 * outcome: cleanup runs even after the deadline, and must never fail a probe or hang it.
 */
export function bestEffort(op: Promise<unknown>, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    op.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => clearTimeout(timer));
  });
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Runs and times a probe's steps, reports each via `ctx.onStep`, and folds them into a verdict. */
export class StepRecorder {
  readonly steps: StepResult[] = [];

  constructor(
    private readonly tier: TierName,
    private readonly ctx: Pick<ProbeContext, "onStep">,
  ) {}

  /**
   * Runs one step. A thrown error makes it `fail` with the error's first line as detail, except
   * `NotReadyError`, which propagates unrecorded: the runner retries the whole probe.
   */
  async run(name: string, body: () => Promise<StepOutcome>): Promise<StepResult> {
    const started = performance.now();
    let step: StepResult;
    try {
      const outcome = await body();
      const { verdict, detail } = typeof outcome === "object" ? outcome : { verdict: "pass" as const, detail: outcome ?? undefined };
      step = { name, verdict, durationMs: round(performance.now() - started), ...(detail !== undefined && { detail }) };
    } catch (err) {
      if (err instanceof NotReadyError) throw err;
      step = { name, verdict: "fail", durationMs: round(performance.now() - started), detail: errorMessage(err) };
    }
    return this.add(step);
  }

  /** Records a step measured elsewhere (e.g. a connect that had to happen before the first step). */
  add(step: StepResult): StepResult {
    this.steps.push(step);
    this.ctx.onStep?.(this.tier, step);
    return step;
  }

  get failed(): boolean {
    return this.steps.some((s) => s.verdict === "fail");
  }

  /** The tier's verdict (worst step) and a reason naming every step that did not pass, failures first. */
  result(): Omit<TierResult, "attempts" | "durationMs"> {
    const verdict = worstVerdict(this.steps.map((s) => s.verdict));
    const reason = [...this.steps.filter((s) => s.verdict === "fail"), ...this.steps.filter((s) => s.verdict === "degraded")]
      .map((s) => `${s.name}: ${s.detail ?? s.verdict}`)
      .join("; ");
    return { tier: this.tier, verdict, ...(reason !== "" && { reason }), steps: this.steps };
  }
}
