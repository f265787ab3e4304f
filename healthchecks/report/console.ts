/**
 * Progress and outcome on the console. On a TTY (and not CI) the per-tier block is redrawn in place
 * as steps finish; otherwise each event is one plain line, so CI logs read top to bottom. Colour only
 * when `color` is set (the CLI turns it off for NO_COLOR and non-TTY output).
 */
import type { TierName } from "../endpoints.js";
import type { StepResult, TierResult, Verdict } from "../probe.js";
import type { RunEvents, RunResult } from "../runner.js";

export interface ConsoleOptions {
  write: (text: string) => void;
  /** Redraw in place (TTY) instead of appending lines. */
  live: boolean;
  color: boolean;
  /** Print only non-pass tiers' reasons at the end. */
  quiet: boolean;
  /** Terminal width, so a redraw also clears lines that wrapped. @default 80 */
  columns?: number;
}

const COLOR: Record<Verdict | "dim", string> = { pass: "\x1b[32m", degraded: "\x1b[33m", fail: "\x1b[31m", dim: "\x1b[2m" };
const RESET = "\x1b[0m";
const TIER_WIDTH = 9; // "rabbitmq" + 1
const STEP_WIDTH = 15;

const ms = (value: number): string => `${Math.round(value)} ms`;
const DEFAULT_COLUMNS = 80;
const ANSI = /\x1b\[[0-9;]*m/g;

interface TierState {
  status: string;
  steps: StepResult[];
  result?: TierResult;
}

export class ConsoleReporter implements RunEvents {
  private readonly tiers = new Map<TierName, TierState>();
  private drawnRows = 0;

  constructor(private readonly options: ConsoleOptions) {}

  private paint(kind: Verdict | "dim", text: string): string {
    return this.options.color ? `${COLOR[kind]}${text}${RESET}` : text;
  }

  private stepLine(tier: TierName, step: StepResult): string {
    const detail = step.detail === undefined ? "" : `  ${this.paint("dim", step.detail)}`;
    return `${tier.padEnd(TIER_WIDTH)}${step.name.padEnd(STEP_WIDTH)}${this.paint(step.verdict, step.verdict.padEnd(9))}${ms(step.durationMs).padStart(8)}${detail}`;
  }

  private tierLine(result: TierResult): string {
    const reason = result.reason === undefined ? "" : `  ${result.reason}`;
    const attempts = result.attempts > 1 ? `, ${result.attempts} attempts` : "";
    const steps = `${result.steps.length} step${result.steps.length === 1 ? "" : "s"}`;
    return `${result.tier.padEnd(TIER_WIDTH)}${this.paint(result.verdict, result.verdict.toUpperCase())} (${steps}, ${ms(result.durationMs)}${attempts})${reason}`;
  }

  private emit(plainLine: string): void {
    if (this.options.quiet) return;
    if (this.options.live) this.redraw();
    else this.options.write(`${plainLine}\n`);
  }

  /** Rewrites the whole progress block: cursor up over the last drawing, clear to the end, draw. */
  private redraw(): void {
    const lines: string[] = [];
    for (const [tier, state] of this.tiers) {
      lines.push(state.result ? this.tierLine(state.result) : `${tier.padEnd(TIER_WIDTH)}${this.paint("dim", state.status)}`);
      for (const step of state.steps) lines.push(`  ${this.stepLine(tier, step)}`);
    }
    const up = this.drawnRows > 0 ? `\x1b[${this.drawnRows}A\r\x1b[0J` : "";
    this.options.write(`${up}${lines.join("\n")}\n`);
    // A line longer than the terminal wraps onto several rows; the next redraw must go up over all of them.
    const given = this.options.columns ?? 0;
    const columns = given > 0 ? given : DEFAULT_COLUMNS; // a pseudo-terminal may report 0 columns
    this.drawnRows = lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(line.replace(ANSI, "").length / columns)), 0);
  }

  private state(tier: TierName): TierState {
    let state = this.tiers.get(tier);
    if (state === undefined) {
      state = { status: "starting", steps: [] };
      this.tiers.set(tier, state);
    }
    return state;
  }

  onTierStart = (tier: TierName): void => {
    this.state(tier).status = "running";
    this.emit(`${tier.padEnd(TIER_WIDTH)}running`);
  };

  onNotReady = (tier: TierName, attempt: number, reason: string, retryInMs: number): void => {
    const state = this.state(tier);
    state.steps = []; // the next attempt starts over
    state.status = `not ready (attempt ${attempt}): ${reason}; retrying in ${ms(retryInMs)}`;
    this.emit(`${tier.padEnd(TIER_WIDTH)}${state.status}`);
  };

  onStep = (tier: TierName, step: StepResult): void => {
    this.state(tier).steps.push(step);
    this.emit(this.stepLine(tier, step));
  };

  onTierDone = (result: TierResult): void => {
    this.state(result.tier).result = result;
    this.emit(this.tierLine(result));
  };

  /** The closing summary; in quiet mode only tiers that did not pass. */
  finish(result: RunResult): void {
    const { write, quiet } = this.options;
    if (quiet) {
      for (const tier of result.tiers) if (tier.verdict !== "pass") write(`${this.tierLine(tier)}\n`);
      return;
    }
    const strict = result.strict ? ", strict" : "";
    write(
      `smoke ${result.stage}: ${this.paint(result.verdict, result.verdict.toUpperCase())} — ${result.tiers.length} tier${result.tiers.length === 1 ? "" : "s"} in ${ms(result.durationMs)} (run ${result.runId}${strict})\n`,
    );
  }
}
