/** A connect, publish or consume did not finish before the probe's deadline. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  /** What timed out, e.g. `XREADGROUP`. */
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} timed out after ${timeoutMs} ms`);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}
