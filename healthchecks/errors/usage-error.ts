/** Bad command-line usage (unknown tier, bad `--deadline`, unreadable file): the CLI exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
