/** Every problem of a stage's config at once, each with its config path. */
export interface StageProblem {
  /** e.g. `kafka.replicationFactor`, `channels[2].name`. */
  path: string;
  message: string;
}

export class StageValidationError extends Error {
  override readonly name = "StageValidationError";
  readonly problems: readonly StageProblem[];
  readonly stage: string;

  constructor(stage: string, problems: readonly StageProblem[]) {
    super(
      `stage \`${stage}\` has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.stage = stage;
    this.problems = problems;
  }
}
