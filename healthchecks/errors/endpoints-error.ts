/** One offending field of an endpoints document. `path` is e.g. `nats.servers[0]`. */
export interface EndpointsProblem {
  path: string;
  message: string;
}

/**
 * The endpoints document is not valid version 1. Lists every problem at once, each naming its field;
 * messages never quote field values (a value may be a secret).
 */
export class EndpointsError extends Error {
  override readonly name = "EndpointsError";
  readonly problems: readonly EndpointsProblem[];

  constructor(problems: readonly EndpointsProblem[], options?: { cause?: unknown }) {
    super(`invalid endpoints: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`, options);
    this.problems = problems;
  }
}
