/** Shared by the benchmarks: quantiles of samples and wall-time measurement. */
import { performance } from "node:perf_hooks";

/** The q-quantile (0..1) of the samples, by the nearest rank below; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Milliseconds the body took, and what it returned. */
export async function timed<T>(body: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await body();
  return [performance.now() - started, value];
}
