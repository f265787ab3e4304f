/**
 * The probe contract every tier's smoke check implements. A probe is a sequence of named, timed steps
 * (connect, publish, consume, ack, compare, clean up) that ends in one verdict with a reason a human
 * can act on. Probes are plain async functions over their tier's endpoint block; the runner owns
 * deadlines, readiness retries, parallelism and reporting.
 */
import type { Endpoints, TierName } from "./endpoints.js";

export type Verdict = "pass" | "degraded" | "fail";

export interface StepResult {
  /** Short, stable step name, e.g. `connect`, `streams-round`, `cluster-health`. */
  name: string;
  verdict: Verdict;
  durationMs: number;
  /** Why the step is not `pass`, or a short fact worth showing (e.g. `3/3 nodes`). Never holds a secret. */
  detail?: string;
}

export interface TierResult {
  tier: TierName;
  verdict: Verdict;
  /** The reason for a non-pass verdict, naming the node, topic or setting a human should look at. */
  reason?: string;
  steps: StepResult[];
  durationMs: number;
  /** How many readiness attempts the runner made before this result (1 = ready at once). */
  attempts: number;
}

/** I/O a probe receives instead of reaching for globals, so failure cases are testable. */
export interface ProbeContext {
  /** Unique per run (e.g. `bp-smoke-<time>-<random>`): every probe object name derives from it. */
  runId: string;
  /** Absolute time (ms since epoch, from `now()`) after which the probe must have given up. */
  deadline: number;
  now: () => number;
  /** Aborted when the runner's deadline passes; probes close their connections on abort. */
  signal: AbortSignal;
  /** The whole endpoints document (channels live there; tiers read their own block). */
  endpoints: Endpoints;
  /** Reports a finished step live (console progress); the probe also returns all steps. */
  onStep?: (tier: TierName, step: StepResult) => void;
}

/**
 * One tier's probe. It throws `NotReadyError` when the tier is not reachable yet (the runner retries
 * with backoff until the deadline); any other outcome is returned as steps and a verdict.
 */
export type Probe = (ctx: ProbeContext) => Promise<Omit<TierResult, "attempts" | "durationMs">>;

/** Thrown by a probe when its tier is not ready yet (connection refused, cluster still forming). */
export class NotReadyError extends Error {
  override readonly name = "NotReadyError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The worst of a set of verdicts: fail > degraded > pass. */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = "pass";
  for (const v of verdicts) {
    if (v === "fail") return "fail";
    if (v === "degraded") worst = "degraded";
  }
  return worst;
}
